"""GET /api/line-requests/:id, its /events, and GET /api/lines/by-user (SPEC §4)."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Plan
from domain.ids import workspace_aggregate_id
from tests.conftest import make_tenant
from tests.http.helpers import (
    LINE_FIELDS,
    act,
    assert_error,
    created,
    email_body,
    get_request,
    lines,
    pay,
    phone_body,
)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_get_returns_status_line_and_payment_url(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    posted = created(client, t, email_body())
    r = get_request(client, t, posted["line"]["_id"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"status", "line", "paymentUrl"}
    assert set(body["line"]) == LINE_FIELDS
    assert body["status"] == "awaiting_payment"
    assert body["paymentUrl"] == posted["paymentUrl"]
    assert body["line"] == posted["line"]


def test_get_of_another_workspaces_request_is_not_found(
    services: Services, client: TestClient
) -> None:
    owner = make_tenant(services, "org_owner", Plan.GROWTH)
    other = make_tenant(services, "org_other", Plan.GROWTH)
    request_id = created(client, owner, phone_body())["line"]["_id"]
    assert_error(get_request(client, other, request_id), 404, "not_found")


def test_get_of_an_unknown_or_malformed_id_is_not_found(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_a", Plan.GROWTH)
    assert_error(get_request(client, t, str(uuid4())), 404, "not_found")
    assert_error(get_request(client, t, "not-a-uuid"), 404, "not_found")


def test_a_workspace_aggregate_id_is_not_a_line_request(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_a", Plan.GROWTH)
    workspace_id = str(workspace_aggregate_id("org_a"))
    assert_error(get_request(client, t, workspace_id), 404, "not_found")
    r = client.get(f"/api/line-requests/{workspace_id}/events", headers=t.headers)
    assert_error(r, 404, "not_found")
    assert_error(act(client, t, workspace_id, "cancel"), 404, "not_found")


def test_events_are_the_whole_history_oldest_first(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    posted = created(client, t, email_body())
    pay(client, posted["paymentUrl"])
    r = client.get(f"/api/line-requests/{posted['line']['_id']}/events", headers=t.headers)
    assert r.status_code == 200, r.text
    events = r.json()["events"]
    assert [e["type"] for e in events] == ["Requested", "Invoiced", "Paid", "ProvisioningStarted"]
    assert [e["version"] for e in events] == [1, 2, 3, 4]
    assert all(set(e) == {"type", "version", "timestamp", "data"} for e in events)
    times = [parse_time(e["timestamp"]) for e in events]
    assert times == sorted(times)
    requested = events[0]["data"]
    assert requested["workspace_id"] == "org_starter"
    assert requested["channel"] == "email"
    assert requested["billing"] == "addon"
    assert requested["source"] == "api"
    assert events[1]["data"]["invoice_id"] == posted["line"]["stripeInvoiceId"]
    assert events[2]["data"]["amount"] == 500


def test_an_included_requests_history_starts_with_requested_and_provisioning_started(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = created(client, t, phone_body())["line"]["_id"]
    r = client.get(f"/api/line-requests/{request_id}/events", headers=t.headers)
    assert [e["type"] for e in r.json()["events"]] == ["Requested", "ProvisioningStarted"]


def test_events_of_another_workspaces_request_are_not_found(
    services: Services, client: TestClient
) -> None:
    owner = make_tenant(services, "org_owner", Plan.GROWTH)
    other = make_tenant(services, "org_other", Plan.GROWTH)
    request_id = created(client, owner, phone_body())["line"]["_id"]
    r = client.get(f"/api/line-requests/{request_id}/events", headers=other.headers)
    assert_error(r, 404, "not_found")


def test_events_of_an_unknown_or_malformed_id_are_not_found(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_a", Plan.GROWTH)
    for request_id in (str(uuid4()), "nope"):
        r = client.get(f"/api/line-requests/{request_id}/events", headers=t.headers)
        assert_error(r, 404, "not_found")


def test_lines_by_user_lists_every_line_newest_first(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    ids = [created(client, t, phone_body(lastName=str(i)))["line"]["_id"] for i in range(3)]
    listed = lines(client, t)
    assert [x["_id"] for x in listed] == ids[::-1]
    assert [x["provisioningStatus"] for x in listed] == [
        "awaiting_payment",
        "provisioning",
        "provisioning",
    ]


def test_lines_by_user_shows_exactly_the_line_fields(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    created(client, t, email_body())
    (line,) = lines(client, t)
    assert set(line) == LINE_FIELDS
    assert line["email"] == "grace@example.com"
    assert line["phone"] is None
    assert line["requestedChannelType"] == "email"
    assert line["paymentStatus"] == "pending"
    assert line["paymentLinkUrl"].startswith("http://testserver/sandbox/invoices/")
    assert line["stripeInvoiceId"].startswith("in_")
    assert isinstance(line["dailyNewConversationsLimit"], int)
    assert isinstance(line["dailyTotalMessagesLimit"], int)
    assert line["usage"] == {"date": "2026-01-15", "newMessages": 0, "totalMessages": 0}
    assert line["healthCheck"] is None
    assert parse_time(line["createdAt"]) <= parse_time(line["updatedAt"])


def test_lines_by_user_never_shows_another_workspaces_lines(
    services: Services, client: TestClient
) -> None:
    one = make_tenant(services, "org_one", Plan.GROWTH)
    two = make_tenant(services, "org_two", Plan.GROWTH)
    created(client, one, phone_body(firstName="One"))
    created(client, two, phone_body(firstName="Two"))
    assert [x["firstName"] for x in lines(client, one)] == ["One"]
    assert [x["workspaceId"] for x in lines(client, two)] == ["org_two"]


def test_lines_by_user_is_empty_for_a_new_workspace(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_new", Plan.MINI)
    r = client.get("/api/lines/by-user", headers=t.headers)
    assert r.status_code == 200
    assert r.json() == {"lines": [], "has_more": False}
