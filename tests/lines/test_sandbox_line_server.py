"""The sandbox line server: sandbox-provisioned lines get a server URL on the service itself,
so the real probe works out of the box; `tuco sandbox line` flips what it reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from api.bootstrap import Services
from domain.enums import LineState, Plan
from tests.conftest import Tenant, make_tenant
from tests.lines.conftest import PHONE, SQLITE_ONLY, Lines
from tests.lines.helpers import (
    NOTIFY_SECRET,
    NotifyReceiver,
    SigningKey,
    api,
    bearer,
    claims,
    verify_signature,
    wait_for,
)
from tests.support.fakes import FakeClock
from tests.support.server import running_server

Tuco = Callable[..., tuple[int, str]]


def sandbox_activated(services: Services, clock: FakeClock, line_id: str) -> str:
    """Let the sandbox provisioner finish the line; its server URL."""
    clock.advance(services.settings.sandbox_provision_seconds + 1)
    services.worker.run_once()
    req = services.app.line_request(UUID(line_id))
    assert req.state is LineState.ACTIVE
    assert req.server_url is not None
    return req.server_url


def test_a_sandbox_provisioned_line_gets_a_server_url_on_the_sandbox_line_server(
    services: Services, clock: FakeClock, lines: Lines, tenant_a: Tenant
) -> None:
    line_id = lines.request(tenant_a)
    url = sandbox_activated(services, clock, line_id)
    assert url == f"{services.settings.public_url}/sandbox/lines/{line_id}"


def test_the_sandbox_line_server_reports_what_the_operator_sets(
    client: TestClient, lines: Lines, tenant_a: Tenant, tuco: Tuco
) -> None:
    line_id = lines.request(tenant_a)
    base = f"/sandbox/lines/{line_id}"

    def reported() -> tuple[int, Any, int, Any]:
        health, imessage = client.get(f"{base}/health"), client.get(f"{base}/imessage/status")
        return health.status_code, health.json(), imessage.status_code, imessage.json()

    assert reported() == (200, {"status": "ok"}, 200, {"available": True})

    code, out = tuco("sandbox", "line", line_id, "--imessage", "unavailable")
    assert (code, "up" in out, "iMessage unavailable" in out) == (0, True, True)
    assert reported() == (200, {"status": "ok"}, 200, {"available": False})

    code, out = tuco("sandbox", "line", line_id, "--down")
    assert (code, "down" in out) == (0, True)
    assert reported()[0] == 503 and reported()[2] == 503

    code, _ = tuco("sandbox", "line", line_id, "--up", "--imessage", "available")
    assert code == 0
    assert reported() == (200, {"status": "ok"}, 200, {"available": True})


@pytest.mark.slow
def test_the_real_probe_checks_a_sandbox_line_on_a_real_server(
    database_url: str,
    settings: Settings,
    clock: FakeClock,
    clerk_key: SigningKey,
    notify_receiver: NotifyReceiver,
    tuco: Tuco,
) -> None:
    with (
        running_server(database_url, "--no-worker") as base_url,
        api(settings, clock, public_url=base_url) as (s, client),
    ):
        make_tenant(s, "org_a", Plan.GROWTH)
        token = bearer(clerk_key.sign(claims("org_a")))
        r = client.post("/api/line-requests", json=PHONE, headers=token)
        assert r.status_code == 201, r.text
        line_id = r.json()["line"]["_id"]
        assert sandbox_activated(s, clock, line_id) == f"{base_url}/sandbox/lines/{line_id}"

        def check() -> dict[str, Any]:
            r = client.get(f"/api/lines/check-availability?id={line_id}", headers=token)
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        assert (check()["status"], check()["shouldNotify"]) == ("healthy", False)

        assert tuco("sandbox", "line", line_id, "--imessage", "unavailable")[0] == 0
        no_imessage = check()
        assert (no_imessage["status"], no_imessage["failures"]) == (
            "unhealthy",
            ["imessage: unavailable"],
        )
        assert no_imessage["shouldNotify"] is True

        assert tuco("sandbox", "line", line_id, "--down")[0] == 0
        down = check()
        assert down["status"] == "unhealthy"
        assert [f.split(":")[0] for f in down["failures"]] == ["server", "imessage"]
        assert down["shouldNotify"] is False

        assert tuco("sandbox", "line", line_id, "--up", "--imessage", "available")[0] == 0
        assert (check()["status"], check()["failures"]) == ("healthy", [])
        notices = [verify_signature(m, NOTIFY_SECRET) for m in notify_receiver.messages]
        assert [n["status"] for n in notices] == ["unhealthy", "healthy"]


@SQLITE_ONLY
@pytest.mark.slow
def test_tuco_serve_checks_its_own_sandbox_lines_out_of_the_box(
    database_url: str, services: Services, clerk_key: SigningKey, tuco: Tuco
) -> None:
    make_tenant(services, "org_a", Plan.GROWTH)
    env = {
        "TUCO_CLERK_PUBLIC_KEY": clerk_key.public_pem,
        "TUCO_SANDBOX_PROVISION_SECONDS": "0",
        "TUCO_WORKER_INTERVAL": "0.1",
        "TUCO_HEALTH_COOLDOWN": "0",  # the check right after a change must probe again
    }
    token = bearer(clerk_key.sign(claims("org_a", version=2)))
    with (
        running_server(database_url, env=env) as base_url,
        httpx.Client(base_url=base_url, headers=token, timeout=10) as http,
    ):
        r = http.post("/api/line-requests", json=PHONE)
        assert r.status_code == 201, r.text
        line_id = r.json()["line"]["_id"]
        wait_for(
            lambda: http.get(f"/api/line-requests/{line_id}").json()["status"] == "active",
            what="the sandbox line to become active",
        )

        def check() -> dict[str, Any]:
            r = http.get("/api/lines/check-availability", params={"id": line_id})
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        assert check()["status"] == "healthy"
        assert tuco("sandbox", "line", line_id, "--down")[0] == 0
        down = check()
        assert (down["status"], down["shouldNotify"], down["notificationSent"]) == (
            "unhealthy",
            True,
            True,
        )
        line = http.get("/api/lines/by-user").json()["lines"][0]
        assert line["healthCheck"]["status"] == "unhealthy"
