"""Usage reported by the messaging side (POST /internal/usage with the service token), shown per
line for today (UTC) and compared with the line's daily limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import pytest
from eventsourcing.domain import Aggregate
from starlette.testclient import TestClient

from adapters.config import Settings
from api.bootstrap import Services
from domain.enums import Plan
from domain.line_request import LineRequest
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import assert_error
from tests.lines.conftest import SQLITE_ONLY, Lines
from tests.lines.helpers import INTERNAL_TOKEN, api, bearer, log_position
from tests.support.fakes import FakeClock

Headers = Callable[..., dict[str, str]]
TODAY = "2026-01-15"
NOBODY = "00000000-0000-0000-0000-000000000001"


def item(line_id: str, at: str = f"{TODAY}T10:00:00Z", new: bool = False, messages: int = 1) -> Any:
    return {"lineId": line_id, "timestamp": at, "newConversation": new, "messages": messages}


def report(
    client: TestClient, batch_id: str, items: list[Any], token: str | None = INTERNAL_TOKEN
) -> httpx.Response:
    headers = bearer(token) if token is not None else {}
    return client.post(
        "/internal/usage", json={"batchId": batch_id, "items": items}, headers=headers
    )


def reported(client: TestClient, batch_id: str, items: list[Any]) -> dict[str, Any]:
    r = report(client, batch_id, items)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def line_of(client: TestClient, tenant: Tenant, line_id: str) -> dict[str, Any]:
    r = client.get("/api/lines/by-user", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return next(x for x in r.json()["lines"] if x["_id"] == line_id)  # type: ignore[no-any-return]


def usage(client: TestClient, tenant: Tenant, line_id: str) -> tuple[str, int, int]:
    u = line_of(client, tenant, line_id)["usage"]
    return u["date"], u["newMessages"], u["totalMessages"]


def set_limits(services: Services, line_id: str, new: int | None, total: int | None) -> None:
    def decide(req: LineRequest, ws: object) -> list[Aggregate]:
        req.change_limits(new, total)
        return [req]

    services.app.change_request(UUID(line_id), decide)


# --- the service token -------------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize(
    "token",
    [None, "wrong-token", INTERNAL_TOKEN + "x", INTERNAL_TOKEN[:-1], "tuco_not_the_service"],
    ids=["missing", "wrong", "longer", "shorter", "api-key-shaped"],
)
def test_usage_needs_the_internal_service_token(
    services: Services, client: TestClient, lines: Lines, tenant_a: Tenant, token: str | None
) -> None:
    line_id = lines.request(tenant_a)
    before = log_position(services)
    assert_error(report(client, "b-1", [item(line_id)], token=token), 401, "unauthorized")
    assert log_position(services) == before
    assert usage(client, tenant_a, line_id) == (TODAY, 0, 0)


@SQLITE_ONLY
def test_usage_refuses_a_workspace_key_and_a_dashboard_token(
    client: TestClient, lines: Lines, tenant_a: Tenant, dashboard: Headers
) -> None:
    line_id = lines.request(tenant_a)
    body = {"batchId": "b-1", "items": [item(line_id)]}
    for headers in (tenant_a.headers, dashboard("org_a")):
        assert_error(
            client.post("/internal/usage", json=body, headers=headers), 401, "unauthorized"
        )


@SQLITE_ONLY
def test_usage_is_refused_when_no_service_token_is_configured(
    settings: Settings, clock: FakeClock
) -> None:
    with api(settings, clock, internal_token=None) as (s, client):
        line_id = Lines(s, client).request(make_tenant(s, "org_a", Plan.GROWTH))
        assert_error(report(client, "b-1", [item(line_id)], token="None"), 401, "unauthorized")
        assert_error(report(client, "b-1", [item(line_id)], token=""), 401, "unauthorized")


# --- recording and showing usage ---------------------------------------------------------------


def test_a_line_without_usage_shows_zero_for_today(
    client: TestClient, lines: Lines, tenant_a: Tenant
) -> None:
    line_id = lines.active(tenant_a, None)
    assert line_of(client, tenant_a, line_id)["usage"] == {
        "date": TODAY,
        "newMessages": 0,
        "totalMessages": 0,
    }


def test_a_reported_batch_counts_towards_todays_usage(
    client: TestClient, lines: Lines, tenant_a: Tenant
) -> None:
    line_id = lines.active(tenant_a, None)
    items = [item(line_id, new=True, messages=3), item(line_id, messages=2)]
    assert reported(client, "b-1", items) == {
        "duplicate": False,
        "lines": [
            {
                "lineId": line_id,
                "date": TODAY,
                "newMessages": 1,
                "totalMessages": 5,
                "dailyNewConversationsLimit": 20,
                "dailyTotalMessagesLimit": 150,
                "withinLimits": True,
            }
        ],
    }
    assert usage(client, tenant_a, line_id) == (TODAY, 1, 5)


def test_a_resent_batch_is_not_counted_twice(
    services: Services, client: TestClient, lines: Lines, tenant_a: Tenant
) -> None:
    line_id = lines.active(tenant_a, None)
    items = [item(line_id, new=True, messages=4)]
    assert reported(client, "b-1", items)["duplicate"] is False
    before = log_position(services)
    again = reported(client, "b-1", items)
    assert again["duplicate"] is True
    assert (again["lines"][0]["newMessages"], again["lines"][0]["totalMessages"]) == (1, 4)
    assert log_position(services) == before
    assert usage(client, tenant_a, line_id) == (TODAY, 1, 4)


def test_batches_add_up_per_line(
    client: TestClient, lines: Lines, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    mine, theirs = lines.active(tenant_a, None), lines.active(tenant_b, None)
    reported(client, "b-1", [item(mine, new=True, messages=2), item(theirs, messages=7)])
    answer = reported(client, "b-2", [item(mine, new=True), item(mine)])
    assert [(x["lineId"], x["newMessages"], x["totalMessages"]) for x in answer["lines"]] == [
        (mine, 2, 4)
    ]
    assert usage(client, tenant_a, mine) == (TODAY, 2, 4)
    assert usage(client, tenant_b, theirs) == (TODAY, 0, 7)


def test_usage_is_counted_on_its_utc_day(
    client: TestClient, lines: Lines, tenant_a: Tenant
) -> None:
    line_id = lines.active(tenant_a, None)
    answer = reported(
        client,
        "b-1",
        [
            item(line_id, at="2026-01-16T01:30:00+02:00", messages=2),  # 23:30 UTC on the 15th
            item(line_id, at="2026-01-15T08:00:00", messages=3),  # no offset: UTC
            item(line_id, at="2026-01-14T23:59:59Z", messages=100),  # yesterday
            item(line_id, at="2026-01-15T23:30:00-05:00", messages=100),  # the 16th in UTC
        ],
    )
    assert answer["lines"][0]["totalMessages"] == 5
    assert usage(client, tenant_a, line_id) == (TODAY, 0, 5)


# --- limits ------------------------------------------------------------------------------------


def test_limits_changed_with_the_tuco_command_apply(
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    tuco: Callable[..., tuple[int, str]],
) -> None:
    line_id = lines.active(tenant_a, None)
    code, out = tuco(
        "lines", "limits", line_id, "--new-conversations", "2", "--total-messages", "10"
    )
    assert code == 0, out
    assert "2 new conversations" in out and "10 messages" in out
    line = line_of(client, tenant_a, line_id)
    assert (line["dailyNewConversationsLimit"], line["dailyTotalMessagesLimit"]) == (2, 10)

    first = reported(client, "b-1", [item(line_id, new=True, messages=3)])["lines"][0]
    assert (first["dailyNewConversationsLimit"], first["dailyTotalMessagesLimit"]) == (2, 10)
    assert first["withinLimits"] is True
    second = reported(client, "b-2", [item(line_id, new=True), item(line_id, new=True)])
    assert second["lines"][0]["newMessages"] == 3
    assert second["lines"][0]["withinLimits"] is False


def test_changing_one_limit_keeps_the_other(
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    tuco: Callable[..., tuple[int, str]],
) -> None:
    line_id = lines.active(tenant_a, None)
    assert tuco("lines", "limits", line_id, "--total-messages", "40")[0] == 0
    line = line_of(client, tenant_a, line_id)
    assert (line["dailyNewConversationsLimit"], line["dailyTotalMessagesLimit"]) == (20, 40)


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("new", "messages", "within"),
    [(1, 5, True), (4, 5, False), (1, 60, False), (4, 60, False)],
    ids=["below-both", "over-new-conversations", "over-total-messages", "over-both"],
)
def test_a_line_is_within_limits_only_below_both(
    services: Services,
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    new: int,
    messages: int,
    within: bool,
) -> None:
    line_id = lines.active(tenant_a, None)
    set_limits(services, line_id, new=3, total=50)
    items = [item(line_id, new=True, messages=0) for _ in range(new)] + [
        item(line_id, messages=messages)
    ]
    assert reported(client, "b-1", items)["lines"][0]["withinLimits"] is within


@SQLITE_ONLY
def test_new_lines_get_the_configured_default_limits(settings: Settings, clock: FakeClock) -> None:
    changes = {"daily_new_conversations_limit": 1, "daily_total_messages_limit": 2}
    with api(settings, clock, **changes) as (s, client):
        tenant = make_tenant(s, "org_a", Plan.GROWTH)
        line_id = Lines(s, client).active(tenant, None)
        line = line_of(client, tenant, line_id)
        assert (line["dailyNewConversationsLimit"], line["dailyTotalMessagesLimit"]) == (1, 2)
        answer = reported(client, "b-1", [item(line_id, messages=2)])["lines"][0]
        assert (answer["dailyTotalMessagesLimit"], answer["withinLimits"]) == (2, False)


def test_a_batch_of_the_largest_allowed_size_is_accepted(
    client: TestClient, lines: Lines, tenant_a: Tenant
) -> None:
    line_id = lines.active(tenant_a, None)
    answer = reported(client, "b-1", [item(line_id)] * 1000)
    assert answer["lines"][0]["totalMessages"] == 1000


# --- refused batches ---------------------------------------------------------------------------


def test_an_unknown_line_is_not_found_and_nothing_is_recorded(
    services: Services, client: TestClient, lines: Lines, tenant_a: Tenant
) -> None:
    line_id = lines.active(tenant_a, None)
    before = log_position(services)
    r = report(client, "b-1", [item(line_id, messages=5), item(NOBODY)])
    assert_error(r, 404, "not_found")
    assert log_position(services) == before
    assert usage(client, tenant_a, line_id) == (TODAY, 0, 0)
    # The refused batch id was not used up: the corrected batch counts.
    assert reported(client, "b-1", [item(line_id, messages=5)])["duplicate"] is False
    assert usage(client, tenant_a, line_id) == (TODAY, 0, 5)


def batch(*items: Any) -> dict[str, Any]:
    return {"batchId": "b-1", "items": list(items)}


def with_field(**changes: Any) -> dict[str, Any]:
    """A batch of one otherwise valid item with fields replaced."""
    return batch(item(NOBODY) | changes)


MALFORMED = [
    pytest.param(b"{", "body", id="not-json"),
    pytest.param([], "body", id="not-an-object"),
    pytest.param(batch(item(NOBODY)) | {"extra": 1}, "extra", id="unknown-field"),
    pytest.param({"items": [item(NOBODY)]}, "batchId", id="no-batch-id"),
    pytest.param(batch(item(NOBODY)) | {"batchId": " "}, "batchId", id="blank-batch-id"),
    pytest.param(batch(item(NOBODY)) | {"batchId": 7}, "batchId", id="numeric-batch-id"),
    pytest.param({"batchId": "b-1"}, "items", id="no-items"),
    pytest.param(batch(), "items", id="empty-items"),
    pytest.param(batch() | {"items": item(NOBODY)}, "items", id="items-not-a-list"),
    pytest.param(batch(*[item(NOBODY)] * 1001), "items", id="too-many-items"),
    pytest.param(batch(7), "items[0]", id="item-not-an-object"),
    pytest.param(with_field(count=1), "items[0].count", id="unknown-item-field"),
    pytest.param(batch({"timestamp": f"{TODAY}T10:00:00Z"}), "items[0].lineId", id="no-line-id"),
    pytest.param(with_field(lineId="line-1"), "items[0].lineId", id="bad-line-id"),
    pytest.param(
        with_field(lineId=12345678123456781234567812345678), "items[0].lineId", id="numeric-line-id"
    ),
    pytest.param(batch({"lineId": NOBODY}), "items[0].timestamp", id="no-timestamp"),
    pytest.param(with_field(timestamp="yesterday"), "items[0].timestamp", id="bad-timestamp"),
    pytest.param(with_field(timestamp=20260115), "items[0].timestamp", id="numeric-timestamp"),
    pytest.param(
        with_field(newConversation="yes"), "items[0].newConversation", id="text-new-conversation"
    ),
    pytest.param(with_field(messages=-1), "items[0].messages", id="negative-messages"),
    pytest.param(with_field(messages=1.5), "items[0].messages", id="fractional-messages"),
    pytest.param(with_field(messages="3"), "items[0].messages", id="text-messages"),
    pytest.param(with_field(messages=True), "items[0].messages", id="boolean-messages"),
    pytest.param(
        batch(item(NOBODY), item(NOBODY) | {"messages": None}),
        "items[1].messages",
        id="bad-second-item",
    ),
]


@SQLITE_ONLY
@pytest.mark.parametrize(("body", "param"), MALFORMED)
def test_a_malformed_batch_is_refused_with_the_offending_field(
    services: Services, client: TestClient, body: Any, param: str
) -> None:
    headers = bearer(INTERNAL_TOKEN)
    before = log_position(services)
    if isinstance(body, bytes):
        r = client.post("/internal/usage", content=body, headers=headers)
    else:
        r = client.post("/internal/usage", json=body, headers=headers)
    assert_error(r, 422, "validation_error", param=param)
    assert log_position(services) == before


# --- the UTC day rolls over --------------------------------------------------------------------


def test_usage_rolls_over_at_utc_midnight(
    client: TestClient, clock: FakeClock, lines: Lines, tenant_a: Tenant
) -> None:
    clock.advance(11 * 3600 + 59 * 60 + 30)  # 2026-01-15 23:59:30 UTC
    line_id = lines.active(tenant_a, None)
    reported(client, "b-1", [item(line_id, at=f"{TODAY}T23:59:40Z", new=True, messages=3)])
    assert usage(client, tenant_a, line_id) == (TODAY, 1, 3)

    clock.advance(60)  # 2026-01-16 00:00:30 UTC
    assert usage(client, tenant_a, line_id) == ("2026-01-16", 0, 0)

    late = reported(client, "b-2", [item(line_id, at=f"{TODAY}T23:59:55Z", messages=9)])
    assert (late["lines"][0]["date"], late["lines"][0]["totalMessages"]) == ("2026-01-16", 0)
    answer = reported(client, "b-3", [item(line_id, at="2026-01-16T00:00:10Z", new=True)])
    assert answer["lines"][0] | {"lineId": None} == {
        "lineId": None,
        "date": "2026-01-16",
        "newMessages": 1,
        "totalMessages": 1,
        "dailyNewConversationsLimit": 20,
        "dailyTotalMessagesLimit": 150,
        "withinLimits": True,
    }
    assert usage(client, tenant_a, line_id) == ("2026-01-16", 1, 1)


@SQLITE_ONLY
def test_a_day_over_its_limits_does_not_hold_back_the_next_day(
    services: Services, client: TestClient, clock: FakeClock, lines: Lines, tenant_a: Tenant
) -> None:
    clock.advance(11 * 3600 + 59 * 60 + 30)
    line_id = lines.active(tenant_a, None)
    set_limits(services, line_id, new=1, total=2)
    over = reported(client, "b-1", [item(line_id, at=f"{TODAY}T23:59:31Z", messages=5)])
    assert over["lines"][0]["withinLimits"] is False
    clock.advance(60)
    fresh = reported(client, "b-2", [item(line_id, at="2026-01-16T00:00:10Z", messages=1)])
    assert fresh["lines"][0]["withinLimits"] is True
