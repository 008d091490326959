"""GET /api/lines/check-availability with the real HTTP probe against line servers the tests
control (SPEC §4), and the notices sent when a line's health changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import httpx
import pytest
from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Plan
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import assert_error
from tests.lines.conftest import EMAIL, SQLITE_ONLY, Lines
from tests.lines.helpers import (
    NOTIFY_SECRET,
    LineServer,
    NotifyReceiver,
    health_checks,
    log_position,
    verify_signature,
)
from tests.support.fakes import FakeClock

Headers = Callable[..., dict[str, str]]


def check(client: TestClient, line_id: str, headers: dict[str, str]) -> httpx.Response:
    return client.get(f"/api/lines/check-availability?id={line_id}", headers=headers)


def checked(client: TestClient, line_id: str, headers: dict[str, str]) -> dict[str, Any]:
    r = check(client, line_id, headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def health_of(client: TestClient, tenant: Tenant, line_id: str) -> Any:
    r = client.get("/api/lines/by-user", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return next(x["healthCheck"] for x in r.json()["lines"] if x["_id"] == line_id)


# --- the acceptance scenario -------------------------------------------------------------------


def test_a_healthy_line_is_reported_healthy_without_a_notice(
    services: Services,
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
    notify_receiver: NotifyReceiver,
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    assert checked(client, line_id, dashboard("org_a")) == {
        "success": True,
        "lineId": line_id,
        "status": "healthy",
        "failures": [],
        "checkedAt": "2026-01-15T12:00:00Z",
        "shouldNotify": False,
        "notificationSent": False,
    }
    assert line_server.paths() == ["/health", "/imessage/status"]
    assert notify_receiver.messages == []
    assert len(health_checks(services, line_id)) == 1


def test_a_line_going_down_sends_one_signed_notice(
    services: Services,
    client: TestClient,
    clock: FakeClock,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
    notify_receiver: NotifyReceiver,
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    assert checked(client, line_id, dashboard("org_a"))["shouldNotify"] is False

    line_server.stop()
    clock.advance(60)
    down = checked(client, line_id, dashboard("org_a", version=2))
    assert down["status"] == "unhealthy"
    assert down["failures"] and all("unreachable" in f for f in down["failures"])
    assert (down["shouldNotify"], down["notificationSent"]) == (True, True)
    assert len(notify_receiver.messages) == 1
    notice = verify_signature(notify_receiver.messages[0], NOTIFY_SECRET)
    assert notice == {
        "type": "line.health_changed",
        "lineId": line_id,
        "workspaceId": "org_a",
        "status": "unhealthy",
        "previousStatus": "healthy",
        "failures": down["failures"],
        "checkedAt": "2026-01-15T12:01:00Z",
    }

    clock.advance(60)
    still_down = checked(client, line_id, dashboard("org_a"))
    assert still_down["status"] == "unhealthy"
    assert (still_down["shouldNotify"], still_down["notificationSent"]) == (False, False)
    assert len(notify_receiver.messages) == 1
    assert [e.status.value for e in health_checks(services, line_id)] == [
        "healthy",
        "unhealthy",
        "unhealthy",
    ]


def test_a_line_coming_back_up_sends_a_notice_again(
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
    notify_receiver: NotifyReceiver,
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    line_server.mode = "error"
    assert checked(client, line_id, dashboard())["shouldNotify"] is True
    line_server.mode = "healthy"
    up = checked(client, line_id, dashboard())
    assert (up["status"], up["shouldNotify"], up["notificationSent"]) == ("healthy", True, True)
    notices = [verify_signature(m, NOTIFY_SECRET) for m in notify_receiver.messages]
    assert [(n["previousStatus"], n["status"]) for n in notices] == [
        ("healthy", "unhealthy"),
        ("unhealthy", "healthy"),
    ]


def test_concurrent_checks_of_a_line_that_went_down_send_one_notice(
    services: Services,
    lines: Lines,
    tenant_a: Tenant,
    dead_server: LineServer,
    notify_receiver: NotifyReceiver,
) -> None:
    line_id = UUID(lines.active(tenant_a, dead_server.url))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: services.health.check(line_id, "org_a"), range(4)))
    assert [r.status.value for r in results] == ["unhealthy"] * 4
    assert sum(r.should_notify for r in results) == 1
    assert len(notify_receiver.messages) == 1
    assert len(health_checks(services, line_id)) == 4


def test_the_first_check_of_a_line_that_is_down_notifies(
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
    notify_receiver: NotifyReceiver,
) -> None:
    line_server.mode = "error"
    line_id = lines.active(tenant_a, line_server.url)
    first = checked(client, line_id, dashboard())
    assert (first["status"], first["shouldNotify"]) == ("unhealthy", True)
    assert len(notify_receiver.messages) == 1


def test_the_line_shows_its_latest_health_check(
    client: TestClient,
    clock: FakeClock,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    assert health_of(client, tenant_a, line_id) is None
    checked(client, line_id, dashboard())
    assert health_of(client, tenant_a, line_id) == {
        "status": "healthy",
        "lastCheckedAt": "2026-01-15T12:00:00Z",
    }
    line_server.mode = "no_imessage"
    clock.advance(90)
    checked(client, line_id, dashboard())
    assert health_of(client, tenant_a, line_id) == {
        "status": "unhealthy",
        "lastCheckedAt": "2026-01-15T12:01:30Z",
    }


def test_a_health_check_is_in_the_requests_audit_trail(
    client: TestClient, lines: Lines, tenant_a: Tenant, dashboard: Headers, line_server: LineServer
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    checked(client, line_id, dashboard())
    r = client.get(f"/api/line-requests/{line_id}/events", headers=dashboard())
    assert r.status_code == 200, r.text
    last = r.json()["events"][-1]
    assert last["type"] == "HealthChecked"
    assert last["data"]["status"] == "healthy"


# --- what the probe finds ----------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("error", [("server", "500"), ("imessage", "500")]),
        ("slow", [("server", "timed out"), ("imessage", "timed out")]),
        ("no_imessage", [("imessage", "unavailable")]),
    ],
    ids=["http-500", "slow", "imessage-unavailable"],
)
def test_a_phone_line_is_unhealthy_when_its_server_misbehaves(
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
    mode: str,
    expected: list[tuple[str, str]],
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    line_server.mode = mode
    started = time.monotonic()
    result = checked(client, line_id, dashboard())
    assert time.monotonic() - started < line_server.slow_seconds
    assert result["status"] == "unhealthy"
    assert len(result["failures"]) == len(expected), result["failures"]
    for failure, (what, detail) in zip(result["failures"], expected, strict=True):
        assert failure.startswith(what) and detail in failure, failure


@SQLITE_ONLY
def test_a_phone_line_whose_server_is_gone_is_unhealthy(
    client: TestClient, lines: Lines, tenant_a: Tenant, dashboard: Headers, line_server: LineServer
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    line_server.stop()
    result = checked(client, line_id, dashboard())
    assert result["status"] == "unhealthy"
    assert [f.split(":")[0] for f in result["failures"]] == ["server", "imessage"]


@SQLITE_ONLY
def test_an_email_line_is_not_asked_about_imessage(
    services: Services,
    client: TestClient,
    lines: Lines,
    dashboard: Headers,
    line_server: LineServer,
) -> None:
    mini = make_tenant(services, "org_mail", Plan.MINI)  # one email line included
    line_id = lines.active(mini, line_server.url, body=EMAIL, phone=None)
    line_server.mode = "no_imessage"
    assert checked(client, line_id, dashboard("org_mail"))["status"] == "healthy"
    assert line_server.paths() == ["/health"]


@SQLITE_ONLY
def test_a_notice_that_cannot_be_delivered_is_reported_as_not_sent(
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
    notify_receiver: NotifyReceiver,
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    notify_receiver.status = 500
    line_server.mode = "error"
    result = checked(client, line_id, dashboard())
    assert (result["shouldNotify"], result["notificationSent"]) == (True, False)
    assert len(notify_receiver.messages) == 1


# --- lines that cannot be checked --------------------------------------------------------------


def test_a_line_awaiting_payment_is_not_checkable(
    services: Services, client: TestClient, lines: Lines, tenant_a: Tenant, dashboard: Headers
) -> None:
    line_id = lines.request(tenant_a, EMAIL)  # every email line is an add-on on growth
    before = log_position(services)
    assert_error(check(client, line_id, dashboard()), 400, "line_not_checkable")
    assert log_position(services) == before


def test_a_provisioning_line_is_not_checkable(
    services: Services, client: TestClient, lines: Lines, tenant_a: Tenant, dashboard: Headers
) -> None:
    line_id = lines.request(tenant_a)
    before = log_position(services)
    assert_error(check(client, line_id, dashboard()), 400, "line_not_checkable")
    assert log_position(services) == before


@SQLITE_ONLY
def test_a_canceled_line_is_not_checkable(
    client: TestClient, lines: Lines, tenant_a: Tenant, dashboard: Headers
) -> None:
    line_id = lines.request(tenant_a, EMAIL)
    cancel = client.post(
        f"/api/line-requests/{line_id}", json={"action": "cancel"}, headers=tenant_a.headers
    )
    assert cancel.status_code == 200, cancel.text
    assert_error(check(client, line_id, dashboard()), 400, "line_not_checkable")


def test_an_active_line_without_a_server_url_is_not_checkable_until_configured(
    services: Services,
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
    tuco: Callable[..., tuple[int, str]],
) -> None:
    line_id = lines.active(tenant_a, None)
    before = log_position(services)
    assert_error(check(client, line_id, dashboard()), 400, "line_not_checkable")
    assert log_position(services) == before

    code, out = tuco("lines", "configure", line_id, "--server-url", line_server.url)
    assert code == 0, out
    assert line_server.url in out
    assert checked(client, line_id, dashboard())["status"] == "healthy"


@SQLITE_ONLY
def test_configuring_a_new_server_url_moves_the_probe_there(
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
    dead_server: LineServer,
    tuco: Callable[..., tuple[int, str]],
) -> None:
    line_id = lines.active(tenant_a, dead_server.url)
    assert checked(client, line_id, dashboard())["status"] == "unhealthy"
    assert tuco("lines", "configure", line_id, "--server-url", line_server.url)[0] == 0
    assert checked(client, line_id, dashboard())["status"] == "healthy"


def test_another_workspaces_line_is_not_found(
    services: Services,
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    tenant_b: Tenant,
    dashboard: Headers,
    line_server: LineServer,
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    before = log_position(services)
    assert_error(check(client, line_id, dashboard("org_b")), 404, "not_found")
    assert log_position(services) == before
    assert line_server.paths() == []


@SQLITE_ONLY
@pytest.mark.parametrize("line_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_an_unknown_line_is_not_found(
    client: TestClient, tenant_a: Tenant, dashboard: Headers, line_id: str
) -> None:
    assert_error(check(client, line_id, dashboard()), 404, "not_found")


@SQLITE_ONLY
def test_the_line_id_is_required(client: TestClient, tenant_a: Tenant, dashboard: Headers) -> None:
    r = client.get("/api/lines/check-availability", headers=dashboard())
    assert_error(r, 422, "validation_error", param="id")
