"""The sandbox billing provider's hosted invoice page and pay endpoint (SPEC §5)."""

from __future__ import annotations

from typing import Any

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
    invoice_id,
    log_position,
    pay,
)


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return make_tenant(services, "org_starter", Plan.STARTER)


def addon(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    return created(client, tenant, email_body())


def test_the_hosted_invoice_page_is_html_with_a_pay_button(
    client: TestClient, tenant: Tenant
) -> None:
    posted = addon(client, tenant)
    r = client.get(posted["paymentUrl"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert invoice_id(posted["paymentUrl"]) in r.text
    assert "5.00 USD" in r.text
    assert "Status: open" in r.text
    assert "Pay now" in r.text


def test_paying_moves_the_request_to_provisioning(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    posted = addon(client, tenant)
    r = pay(client, posted["paymentUrl"])
    assert r.status_code == 200, r.text
    assert r.json() == {
        "invoiceId": invoice_id(posted["paymentUrl"]),
        "status": "paid",
        "notified": True,
    }
    got = get_request(client, tenant, posted["line"]["_id"]).json()
    assert got["status"] == "provisioning"
    assert got["paymentUrl"] is None
    assert got["line"]["paymentStatus"] == "paid"
    assert services.billing.get_invoice(invoice_id(posted["paymentUrl"])).status is (
        InvoiceStatus.PAID
    )


def test_the_pay_form_redirects_back_to_the_invoice_page(
    client: TestClient, tenant: Tenant
) -> None:
    posted = addon(client, tenant)
    r = client.post(
        f"/sandbox/invoices/{invoice_id(posted['paymentUrl'])}/pay",
        data={},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/sandbox/invoices/{invoice_id(posted['paymentUrl'])}"
    page = client.get(posted["paymentUrl"]).text
    assert "Status: paid" in page
    assert "Pay now" not in page


def test_paying_twice_records_the_payment_once(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    posted = addon(client, tenant)
    pay(client, posted["paymentUrl"])
    before = log_position(services)
    assert pay(client, posted["paymentUrl"]).status_code == 200
    assert log_position(services) == before


def test_paying_a_voided_invoice_is_refused_and_records_nothing(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    posted = addon(client, tenant)
    act(client, tenant, posted["line"]["_id"], "cancel")
    before = log_position(services)
    assert_error(pay(client, posted["paymentUrl"]), 409, "invalid_transition")
    assert log_position(services) == before
    assert get_request(client, tenant, posted["line"]["_id"]).json()["status"] == "canceled"
    page = client.get(posted["paymentUrl"]).text
    assert "Status: void" in page
    assert "Pay now" not in page


def test_the_invoice_page_escapes_the_line_holders_name(client: TestClient, tenant: Tenant) -> None:
    posted = created(client, tenant, email_body(firstName="<script>x</script>"))
    page = client.get(posted["paymentUrl"]).text
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_an_unknown_invoice_is_not_found(client: TestClient) -> None:
    assert_error(client.get("/sandbox/invoices/in_sb_nope"), 404, "not_found")
    assert_error(client.post("/sandbox/invoices/in_sb_nope/pay"), 404, "not_found")
