"""A flood of check-availability calls (security review, finding 3): checks of one line are
single-flight with a cooldown, probes run on their own pool, and new probes are rate-limited
per workspace. 80 concurrent checks from one dashboard user once recorded 88 HealthChecked
events, came back falsely unhealthy and fired notices."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any
from uuid import UUID

import httpx
import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from api.app import create_app
from api.bootstrap import Services, build
from application.health import HealthProbe, ProbeResult
from domain.enums import Channel, HealthStatus, Plan
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import assert_error
from tests.lines.conftest import PHONE, SQLITE_ONLY
from tests.lines.helpers import (
    NOTIFY_SECRET,
    LineServer,
    NotifyReceiver,
    SigningKey,
    bearer,
    claims,
    health_checks,
)
from tests.support.fakes import FakeClock
from tests.support.server import running_server

Headers = Callable[..., dict[str, str]]
CONCURRENT = 40


@SQLITE_ONLY
@pytest.mark.slow
def test_concurrent_checks_of_one_line_make_one_probe_and_no_false_notice(
    database_url: str,
    services: Services,
    clerk_key: SigningKey,
    line_server: LineServer,
    notify_receiver: NotifyReceiver,
) -> None:
    tenant = make_tenant(services, "org_a", Plan.GROWTH)
    env = {
        "TUCO_CLERK_PUBLIC_KEY": clerk_key.public_pem,
        "TUCO_NOTIFY_URL": notify_receiver.url,
        "TUCO_NOTIFY_SECRET": NOTIFY_SECRET,
        "TUCO_HEALTH_COOLDOWN": "60",
        "TUCO_HEALTH_TIMEOUT": "10",
    }
    token = bearer(clerk_key.sign(claims("org_a")))
    with running_server(database_url, "--no-worker", env=env) as base_url:
        created = httpx.post(
            f"{base_url}/api/line-requests", json=PHONE, headers=tenant.headers, trust_env=False
        )
        assert created.status_code == 201, created.text
        line_id = created.json()["line"]["_id"]
        services.provisioning.activate(
            UUID(line_id), "+12025550100", None, "ref", server_url=line_server.url
        )
        start = threading.Barrier(CONCURRENT)

        def check(_: int) -> httpx.Response:
            start.wait(timeout=30)
            return httpx.get(
                f"{base_url}/api/lines/check-availability",
                params={"id": line_id},
                headers=token,
                timeout=60,
                trust_env=False,
            )

        with ThreadPoolExecutor(CONCURRENT) as pool:
            answers = list(pool.map(check, range(CONCURRENT)))

    assert [r.status_code for r in answers] == [200] * CONCURRENT, answers[0].text
    bodies = [r.json() for r in answers]
    assert {b["status"] for b in bodies} == {"healthy"}
    assert {(b["shouldNotify"], b["notificationSent"]) for b in bodies} == {(False, False)}
    assert len({b["checkedAt"] for b in bodies}) == 1  # one result, shared
    assert line_server.paths() == ["/health", "/imessage/status"]  # one probe
    assert len(health_checks(services, line_id)) == 1
    assert notify_receiver.messages == []


class CountingProbe(HealthProbe):
    """Always healthy; remembers which thread ran each probe."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def probe(self, server_url: str, channel: Channel) -> ProbeResult:
        self.threads.append(threading.current_thread().name)
        return ProbeResult(HealthStatus.HEALTHY, [])


@pytest.fixture
def gated(
    settings: Settings, clock: FakeClock
) -> Iterator[tuple[Services, TestClient, CountingProbe]]:
    probe = CountingProbe()
    s = build(
        replace(settings, health_cooldown=60.0, health_rate_limit=3), clock=clock, probe=probe
    )
    try:
        with TestClient(create_app(s, run_worker=False)) as client:
            yield s, client, probe
    finally:
        s.close()


def active_lines(s: Services, tenant: Tenant, client: TestClient, count: int) -> list[str]:
    s.workspaces.set_override(tenant.workspace_id, Channel.PHONE, count, None)  # all included
    ids = []
    for n in range(count):
        body = PHONE | {"lastName": f"Line{n}"}
        r = client.post("/api/line-requests", json=body, headers=tenant.headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["line"]["_id"])
        s.provisioning.activate(UUID(ids[-1]), f"+1202555010{n}", None, "ref", "http://127.0.0.1:9")
    return ids


def check(client: TestClient, line_id: str, headers: dict[str, str]) -> Any:
    return client.get(f"/api/lines/check-availability?id={line_id}", headers=headers)


def test_a_check_within_the_cooldown_gets_the_recent_result_on_the_health_pool(
    gated: tuple[Services, TestClient, CountingProbe], dashboard: Headers
) -> None:
    s, client, probe = gated
    tenant = make_tenant(s, "org_a", Plan.GROWTH)
    [line_id] = active_lines(s, tenant, client, 1)
    first = check(client, line_id, dashboard("org_a"))
    again = check(client, line_id, dashboard("org_a"))
    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json()
    assert len(probe.threads) == 1 and probe.threads[0].startswith("tuco-health")
    assert len(health_checks(s, line_id)) == 1


def test_another_workspace_never_gets_a_recent_result_of_a_line_not_its_own(
    gated: tuple[Services, TestClient, CountingProbe], dashboard: Headers
) -> None:
    s, client, _probe = gated
    tenant = make_tenant(s, "org_a", Plan.GROWTH)
    make_tenant(s, "org_b", Plan.GROWTH)
    [line_id] = active_lines(s, tenant, client, 1)
    assert check(client, line_id, dashboard("org_a")).status_code == 200
    assert_error(check(client, line_id, dashboard("org_b")), 404, "not_found")


def test_new_probes_past_the_workspace_rate_limit_are_refused_with_retry_after(
    gated: tuple[Services, TestClient, CountingProbe], dashboard: Headers
) -> None:
    s, client, probe = gated
    tenant_a = make_tenant(s, "org_a", Plan.GROWTH)
    tenant_b = make_tenant(s, "org_b", Plan.GROWTH)
    lines_a = active_lines(s, tenant_a, client, 4)
    [line_b] = active_lines(s, tenant_b, client, 1)
    for line_id in lines_a[:3]:
        assert check(client, line_id, dashboard("org_a")).status_code == 200
    refused = check(client, lines_a[3], dashboard("org_a"))
    assert_error(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) >= 1
    assert check(client, lines_a[0], dashboard("org_a")).status_code == 200  # recent: free
    assert check(client, line_b, dashboard("org_b")).status_code == 200  # its own budget
    assert len(probe.threads) == 4
    assert health_checks(s, lines_a[3]) == []
