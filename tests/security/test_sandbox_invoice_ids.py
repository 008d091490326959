"""Sandbox invoice ids are random (security review, finding 6): knowing a request's id, or
the workspace id and Idempotency-Key it is derived from, does not find its pay page."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from api.bootstrap import Services
from application.ports import InvoiceOrder
from domain.enums import Channel, Plan
from domain.ids import line_request_id
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import email_body, pay

SANDBOX_ID = re.compile(r"^in_sb_[0-9a-f]{24}$")


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return make_tenant(services, "org_starter", Plan.STARTER)


def add_on(client: TestClient, tenant: Tenant, key: str) -> dict[str, str]:
    headers = tenant.headers | {"Idempotency-Key": key}
    r = client.post("/api/line-requests", json=email_body(), headers=headers)
    assert r.status_code == 201, r.text
    return {"id": r.json()["line"]["_id"], "invoice": r.json()["line"]["stripeInvoiceId"]}


def test_the_invoice_id_is_not_derived_from_the_request(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    first = add_on(client, tenant, "order-1")
    assert first["id"] == str(line_request_id("org_starter", "order-1"))  # derivable…
    assert SANDBOX_ID.match(first["invoice"])
    request_hex = first["id"].replace("-", "")
    assert first["invoice"].removeprefix("in_sb_") not in request_hex  # …its invoice is not
    assert not request_hex.startswith(first["invoice"].removeprefix("in_sb_")[:8])
    assert client.post(f"/sandbox/invoices/in_sb_{request_hex[:24]}/pay").status_code == 404


def test_the_same_request_keeps_its_one_invoice_and_it_can_be_paid(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    posted = add_on(client, tenant, "order-2")
    again = add_on(client, tenant, "order-2")  # the idempotent replay
    assert again == posted
    order = InvoiceOrder(UUID(posted["id"]), "org_starter", Channel.EMAIL, 500, "usd", "again")
    assert services.billing.create_invoice(order).id == posted["invoice"]  # a retried step
    r = client.post(f"/sandbox/invoices/{posted['invoice']}/pay")
    assert r.status_code == 200, r.text
    got = client.get(f"/api/line-requests/{posted['id']}", headers=tenant.headers).json()
    assert (got["status"], got["line"]["paymentStatus"]) == ("provisioning", "paid")


def test_two_requests_get_unrelated_invoice_ids(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    first = add_on(client, tenant, "a")
    assert pay(client, f"/sandbox/invoices/{first['invoice']}").status_code == 200
    second = add_on(client, tenant, "b")
    assert SANDBOX_ID.match(second["invoice"])
    assert first["invoice"] != second["invoice"]
