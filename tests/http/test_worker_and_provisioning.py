"""The background worker, driven by hand with the FakeClock (SPEC §3, §5)."""

from __future__ import annotations

import re
from uuid import UUID

from starlette.testclient import TestClient

from api.bootstrap import Services
from application.ports import InvoiceStatus
from domain.enums import Plan
from tests.conftest import make_tenant
from tests.http.helpers import (
    created,
    email_body,
    get_request,
    invoice_id,
    lines,
    pay,
    phone_body,
)
from tests.support.fakes import FakeClock


def test_a_provisioning_line_stays_provisioning_before_the_delay(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = created(client, t, phone_body())["line"]["_id"]
    clock.advance(1.9)
    services.worker.run_once()
    got = get_request(client, t, request_id).json()
    assert got["status"] == "provisioning"
    assert got["line"]["phone"] is None
    assert got["line"]["isActive"] is False


def test_a_provisioning_line_becomes_active_with_a_phone_number_after_the_delay(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = created(client, t, phone_body())["line"]["_id"]
    clock.advance(2)
    services.worker.run_once()
    got = get_request(client, t, request_id).json()
    assert got["status"] == "active"
    assert got["line"]["isActive"] is True
    assert re.fullmatch(r"\+1202555\d{4}", got["line"]["phone"])


def test_the_requested_phone_number_is_the_one_assigned(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = created(client, t, phone_body(phone="+14155550123"))["line"]["_id"]
    clock.advance(2)
    services.worker.run_once()
    assert get_request(client, t, request_id).json()["line"]["phone"] == "+14155550123"


def test_activation_is_recorded_in_the_history(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = created(client, t, phone_body())["line"]["_id"]
    clock.advance(2)
    services.worker.run_once()
    events = client.get(f"/api/line-requests/{request_id}/events", headers=t.headers).json()
    assert [e["type"] for e in events["events"]][-1] == "Activated"
    assert events["events"][-1]["data"]["phone"].startswith("+1202555")


def test_a_paid_add_on_is_provisioned_counting_from_its_payment(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    clock.advance(10)
    posted = created(client, t, email_body())
    pay(client, posted["paymentUrl"])
    services.worker.run_once()
    assert lines(client, t)[0]["provisioningStatus"] == "provisioning"
    clock.advance(2)
    services.worker.run_once()
    (line,) = lines(client, t)
    assert line["provisioningStatus"] == "active"
    assert line["email"] == "grace@example.com"


def test_a_failed_paid_add_on_is_refunded(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    posted = created(client, t, email_body())
    pay(client, posted["paymentUrl"])
    services.provisioning.fail(UUID(posted["line"]["_id"]), "mail host refused")
    got = get_request(client, t, posted["line"]["_id"]).json()
    assert got["status"] == "failed"
    assert got["line"]["paymentStatus"] == "refunded"
    events = client.get(f"/api/line-requests/{posted['line']['_id']}/events", headers=t.headers)
    types = [e["type"] for e in events.json()["events"]]
    assert types[-2:] == ["ProvisioningFailed", "Refunded"]
    clock.advance(2)
    services.worker.run_once()
    assert get_request(client, t, posted["line"]["_id"]).json()["status"] == "failed"


def test_a_failed_included_line_needs_no_refund(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = created(client, t, phone_body())["line"]["_id"]
    services.provisioning.fail(UUID(request_id), "carrier refused")
    got = get_request(client, t, request_id).json()
    assert (got["status"], got["line"]["paymentStatus"]) == ("failed", "not_required")


def test_the_worker_reconciles_a_lost_webhook(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    posted = created(client, t, email_body())
    pay(client, posted["paymentUrl"], notify=False)
    services.worker.run_once()
    assert get_request(client, t, posted["line"]["_id"]).json()["status"] == "provisioning"


def test_the_worker_has_nothing_to_do_for_an_open_invoice(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    posted = created(client, t, email_body())
    services.worker.run_once()
    assert get_request(client, t, posted["line"]["_id"]).json()["status"] == "awaiting_payment"
    invoice = services.billing.get_invoice(invoice_id(posted["paymentUrl"]))
    assert invoice.status is InvoiceStatus.OPEN
