"""POST /api/line-requests/:id with {"action": "payment_link" | "cancel"} (SPEC §3, §4)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from starlette.testclient import TestClient

from api.bootstrap import Services
from application.ports import InvoiceStatus
from domain.enums import Plan
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import (
    act,
    assert_error,
    created,
    email_body,
    get_request,
    lines,
    log_position,
    pay,
    phone_body,
)
from tests.support.fakes import FakeClock


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return make_tenant(services, "org_starter", Plan.STARTER)


def addon(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    body = created(client, tenant, email_body())
    assert body["status"] == "awaiting_payment"
    return body


def test_payment_link_returns_the_same_link_while_the_invoice_is_open(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    posted = addon(client, tenant)
    before = log_position(services)
    for _ in range(2):
        r = act(client, tenant, posted["line"]["_id"], "payment_link")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "awaiting_payment"
        assert r.json()["paymentUrl"] == posted["paymentUrl"]
    assert log_position(services) == before


def test_payment_link_reconciles_a_payment_whose_webhook_was_lost(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    posted = addon(client, tenant)
    paid = pay(client, posted["paymentUrl"], notify=False)
    assert paid.json() == {
        "invoiceId": posted["line"]["stripeInvoiceId"],
        "status": "paid",
        "notified": False,
    }
    assert get_request(client, tenant, posted["line"]["_id"]).json()["status"] == (
        "awaiting_payment"
    )
    r = act(client, tenant, posted["line"]["_id"], "payment_link")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "provisioning"
    assert r.json()["paymentUrl"] is None
    assert r.json()["line"]["paymentStatus"] == "paid"


def test_payment_link_past_payment_answers_the_state_without_a_link(
    services: Services, client: TestClient, tenant: Tenant, clock: FakeClock
) -> None:
    request_id = created(client, tenant, phone_body())["line"]["_id"]
    r = act(client, tenant, request_id, "payment_link")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["paymentUrl"]) == ("provisioning", None)
    clock.advance(2)
    services.worker.run_once()
    r = act(client, tenant, request_id, "payment_link")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["paymentUrl"]) == ("active", None)


def test_payment_link_of_a_canceled_request_is_an_invalid_transition(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    request_id = addon(client, tenant)["line"]["_id"]
    act(client, tenant, request_id, "cancel")
    before = log_position(services)
    assert_error(act(client, tenant, request_id, "payment_link"), 409, "invalid_transition")
    assert log_position(services) == before


def test_payment_link_of_a_failed_request_is_an_invalid_transition(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    request_id = created(client, tenant, phone_body())["line"]["_id"]
    services.provisioning.fail(UUID(request_id), "no numbers left")
    assert_error(act(client, tenant, request_id, "payment_link"), 409, "invalid_transition")


def test_cancel_voids_the_invoice_and_frees_the_workspace(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    posted = addon(client, tenant)
    r = act(client, tenant, posted["line"]["_id"], "cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "canceled"
    assert r.json()["paymentUrl"] is None
    assert r.json()["line"]["paymentStatus"] == "void"
    invoice = services.billing.get_invoice(posted["line"]["stripeInvoiceId"])
    assert invoice.status is InvoiceStatus.VOID
    again = created(client, tenant, email_body(email="next@example.com"))
    assert again["status"] == "awaiting_payment"


def test_cancel_is_recorded_in_the_history_with_who_canceled(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    request_id = addon(client, tenant)["line"]["_id"]
    act(client, tenant, request_id, "cancel")
    events = client.get(f"/api/line-requests/{request_id}/events", headers=tenant.headers)
    types = [e["type"] for e in events.json()["events"]]
    assert types == ["Requested", "Invoiced", "Canceled", "InvoiceVoided"]
    canceled = events.json()["events"][2]["data"]
    assert canceled["by"] == f"api_key:{tenant.key[:12]}"


def test_cancel_twice_is_an_invalid_transition(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    request_id = addon(client, tenant)["line"]["_id"]
    act(client, tenant, request_id, "cancel")
    before = log_position(services)
    assert_error(act(client, tenant, request_id, "cancel"), 409, "invalid_transition")
    assert log_position(services) == before


def test_cancel_of_a_provisioning_or_active_request_is_an_invalid_transition(
    services: Services, client: TestClient, tenant: Tenant, clock: FakeClock
) -> None:
    request_id = created(client, tenant, phone_body())["line"]["_id"]
    before = log_position(services)
    assert_error(act(client, tenant, request_id, "cancel"), 409, "invalid_transition")
    assert log_position(services) == before
    clock.advance(2)
    services.worker.run_once()
    assert_error(act(client, tenant, request_id, "cancel"), 409, "invalid_transition")
    assert lines(client, tenant)[0]["provisioningStatus"] == "active"


def test_cancel_of_a_failed_request_is_an_invalid_transition(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    request_id = created(client, tenant, phone_body())["line"]["_id"]
    services.provisioning.fail(UUID(request_id), "no numbers left")
    assert_error(act(client, tenant, request_id, "cancel"), 409, "invalid_transition")


def test_cancel_of_another_workspaces_request_is_not_found_and_changes_nothing(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    other = make_tenant(services, "org_other", Plan.GROWTH)
    request_id = addon(client, tenant)["line"]["_id"]
    before = log_position(services)
    assert_error(act(client, other, request_id, "cancel"), 404, "not_found")
    assert_error(act(client, other, request_id, "payment_link"), 404, "not_found")
    assert log_position(services) == before
    assert get_request(client, tenant, request_id).json()["status"] == "awaiting_payment"


def test_actions_on_unknown_or_malformed_ids_are_not_found(
    client: TestClient, tenant: Tenant
) -> None:
    for request_id in (str(uuid4()), "123"):
        assert_error(act(client, tenant, request_id, "cancel"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"action": "refund"}, "action"),
        ({"action": 1}, "action"),
        ({}, "action"),
        ({"action": "cancel", "reason": "changed my mind"}, "reason"),
    ],
    ids=["unknown-action", "number-action", "missing-action", "extra-field"],
)
def test_a_bad_action_body_is_a_validation_error(
    services: Services,
    client: TestClient,
    tenant: Tenant,
    body: dict[str, Any],
    param: str,
) -> None:
    request_id = addon(client, tenant)["line"]["_id"]
    before = log_position(services)
    r = client.post(f"/api/line-requests/{request_id}", json=body, headers=tenant.headers)
    assert_error(r, 422, "validation_error", param)
    assert log_position(services) == before


def test_an_action_body_that_is_not_json_is_a_validation_error(
    client: TestClient, tenant: Tenant
) -> None:
    request_id = addon(client, tenant)["line"]["_id"]
    r = client.post(f"/api/line-requests/{request_id}", content=b"cancel", headers=tenant.headers)
    assert_error(r, 422, "validation_error")


def test_canceling_after_an_unreported_payment_refunds_it_and_never_provisions(
    services: Services, client: TestClient, tenant: Tenant, clock: FakeClock
) -> None:
    posted = addon(client, tenant)
    pay(client, posted["paymentUrl"], notify=False)
    r = act(client, tenant, posted["line"]["_id"], "cancel")
    assert r.status_code == 200, r.text
    clock.advance(2)
    services.worker.run_once()
    got = get_request(client, tenant, posted["line"]["_id"]).json()
    assert (got["status"], got["line"]["paymentStatus"]) == ("canceled", "refunded")
    events = client.get(
        f"/api/line-requests/{posted['line']['_id']}/events", headers=tenant.headers
    )
    types = [e["type"] for e in events.json()["events"]]
    assert "Paid" in types and "Refunded" in types
    assert "ProvisioningStarted" not in types
