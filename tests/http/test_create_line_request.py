"""POST /api/line-requests: plans, capacity, refusals (SPEC §2, §4)."""

from __future__ import annotations

from uuid import UUID

from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Channel, Plan
from tests.conftest import make_tenant
from tests.http.helpers import (
    LINE_FIELDS,
    assert_error,
    created,
    email_body,
    lines,
    log_position,
    pay,
    phone_body,
    request_line,
)


def test_an_included_phone_line_goes_straight_to_provisioning(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    r = request_line(client, t, phone_body(phone="+12025550100"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"status", "line", "paymentUrl"}
    assert body["status"] == "provisioning"
    assert body["paymentUrl"] is None
    line = body["line"]
    assert set(line) == LINE_FIELDS
    assert line["provisioningStatus"] == "provisioning"
    assert line["paymentStatus"] == "not_required"
    assert line["workspaceId"] == "org_growth"
    assert line["requestedChannelType"] == "phone"
    assert line["requestedLineType"] == "purchased"
    assert line["requestSource"] == "api"
    assert (line["firstName"], line["lastName"], line["phone"]) == (
        "Ada",
        "Lovelace",
        "+12025550100",
    )
    assert line["isActive"] is False
    assert line["stripeInvoiceId"] is None


def test_an_add_on_waits_for_payment_with_a_sandbox_hosted_invoice_link(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    body = created(client, t, email_body())
    assert body["status"] == "awaiting_payment"
    invoice = body["line"]["stripeInvoiceId"]
    assert invoice
    assert body["paymentUrl"] == f"http://testserver/sandbox/invoices/{invoice}"
    assert body["line"]["paymentLinkUrl"] == body["paymentUrl"]
    assert body["line"]["paymentStatus"] == "pending"
    assert client.get(body["paymentUrl"]).status_code == 200


def test_mini_plan_refuses_phone_lines_as_channel_not_available(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_mini", Plan.MINI)
    before = log_position(services)
    r = request_line(client, t, phone_body())
    assert_error(r, 403, "channel_not_available", "requestedChannelType")
    assert log_position(services) == before
    assert lines(client, t) == []


def test_mini_plan_includes_the_first_email_and_bills_the_second(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_mini", Plan.MINI)
    assert created(client, t, email_body())["status"] == "provisioning"
    second = created(client, t, email_body(email="second@example.com"))
    assert second["status"] == "awaiting_payment"
    assert second["paymentUrl"] is not None


def test_a_new_request_while_one_awaits_payment_is_refused_naming_the_pending_one(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_mini", Plan.MINI)
    created(client, t, email_body())
    pending = created(client, t, email_body(email="two@example.com"))["line"]["_id"]
    before = log_position(services)
    r = request_line(client, t, email_body(email="three@example.com"))
    error = assert_error(r, 409, "payment_pending")
    assert pending in error["message"]
    assert error["requestId"] == pending
    assert log_position(services) == before
    assert len(lines(client, t)) == 2


def test_a_request_in_provisioning_does_not_block_a_new_request(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    assert created(client, t, phone_body())["status"] == "provisioning"
    assert created(client, t, phone_body(firstName="Bo"))["status"] == "provisioning"


def test_starter_plan_refuses_a_second_phone_as_line_limit_reached(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    assert created(client, t, phone_body())["status"] == "provisioning"
    before = log_position(services)
    r = request_line(client, t, phone_body(firstName="Second"))
    assert_error(r, 403, "line_limit_reached", "requestedChannelType")
    assert log_position(services) == before
    assert len(lines(client, t)) == 1


def test_starter_plan_bills_every_email_line_as_an_add_on(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    assert created(client, t, email_body())["status"] == "awaiting_payment"


def test_growth_plan_includes_two_phones_and_bills_the_third(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    statuses = [created(client, t, phone_body(lastName=str(i)))["status"] for i in range(3)]
    assert statuses == ["provisioning", "provisioning", "awaiting_payment"]


def test_a_paid_add_on_frees_the_workspace_for_the_next_add_on(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    addon = created(client, t, email_body())
    assert pay(client, addon["paymentUrl"]).status_code == 200
    assert created(client, t, email_body(email="b@example.com"))["status"] == "awaiting_payment"


def test_an_inactive_workspace_is_refused_with_subscription_required(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_lapsed", Plan.GROWTH, active=False)
    before = log_position(services)
    assert_error(request_line(client, t, phone_body()), 402, "subscription_required")
    assert log_position(services) == before
    assert lines(client, t) == []


def test_a_key_of_a_workspace_that_does_not_exist_is_refused_with_subscription_required(
    services: Services, client: TestClient
) -> None:
    key = services.keys.create("org_nowhere")
    r = client.post(
        "/api/line-requests", json=phone_body(), headers={"Authorization": f"Bearer {key}"}
    )
    assert_error(r, 402, "subscription_required")


def test_a_reactivated_subscription_accepts_requests_again(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_lapsed", Plan.GROWTH, active=False)
    services.workspaces.set_subscription("org_lapsed", True)
    assert created(client, t, phone_body())["status"] == "provisioning"


def test_an_override_opens_a_channel_the_plan_does_not_offer(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_mini", Plan.MINI)
    services.workspaces.set_override("org_mini", Channel.PHONE, 1, None)
    assert created(client, t, phone_body())["status"] == "provisioning"
    assert_error(request_line(client, t, phone_body(firstName="B")), 403, "line_limit_reached")


def test_an_override_max_allows_paid_add_ons_beyond_the_included_lines(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    services.workspaces.set_override("org_starter", Channel.PHONE, 3, 4)
    statuses = [created(client, t, phone_body(lastName=str(i)))["status"] for i in range(4)]
    assert statuses == ["provisioning"] * 3 + ["awaiting_payment"]
    pay(client, lines(client, t)[0]["paymentLinkUrl"])
    assert_error(request_line(client, t, phone_body(lastName="5")), 403, "line_limit_reached")


def test_an_override_of_included_lines_keeps_the_plans_add_ons(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    services.workspaces.set_override("org_growth", Channel.EMAIL, 1, None)
    assert created(client, t, email_body())["status"] == "provisioning"
    assert created(client, t, email_body(email="b@example.com"))["status"] == "awaiting_payment"


def test_a_failed_line_frees_its_slot(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    first = created(client, t, phone_body())["line"]["_id"]
    services.provisioning.fail(UUID(first), "carrier refused")
    assert created(client, t, phone_body(firstName="Again"))["status"] == "provisioning"


def test_a_pending_add_on_blocks_even_an_included_line_of_another_channel(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    created(client, t, email_body())
    assert_error(request_line(client, t, phone_body()), 409, "payment_pending")


def test_an_unavailable_channel_is_reported_before_a_pending_payment(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_mini", Plan.MINI)
    created(client, t, email_body())
    created(client, t, email_body(email="b@example.com"))
    assert_error(request_line(client, t, phone_body()), 403, "channel_not_available")


def test_a_canceled_add_on_holds_no_slot(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    services.workspaces.set_override("org_starter", Channel.PHONE, 1, 2)
    created(client, t, phone_body())
    addon = created(client, t, phone_body(firstName="Extra"))
    assert addon["status"] == "awaiting_payment"
    client.post(
        f"/api/line-requests/{addon['line']['_id']}", json={"action": "cancel"}, headers=t.headers
    )
    assert created(client, t, phone_body(firstName="Again"))["status"] == "awaiting_payment"
