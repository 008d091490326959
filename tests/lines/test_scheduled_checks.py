"""Scheduled health checks: with TUCO_HEALTH_CHECK_SECONDS the worker checks every active line
that has a server URL."""

from __future__ import annotations

from adapters.config import Settings
from domain.enums import Plan
from tests.conftest import make_tenant
from tests.lines.conftest import EMAIL, Lines
from tests.lines.helpers import (
    NOTIFY_SECRET,
    LineServer,
    NotifyReceiver,
    api,
    health_checks,
    verify_signature,
)
from tests.support.fakes import FakeClock


def test_the_worker_checks_every_active_line_with_a_server_url(
    settings: Settings,
    clock: FakeClock,
    line_server: LineServer,
    dead_server: LineServer,
    notify_receiver: NotifyReceiver,
) -> None:
    with api(settings, clock, health_check_seconds=3600) as (s, client):
        lines = Lines(s, client)
        a = make_tenant(s, "org_a", Plan.GROWTH)
        b = make_tenant(s, "org_b", Plan.GROWTH)
        up = lines.active(a, line_server.url)
        down = lines.active(a, dead_server.url)
        unconfigured = lines.active(b, None)
        provisioning = lines.request(b)
        awaiting_payment = lines.request(b, EMAIL)

        s.worker.run_once()

        checked = {i: [e.status.value for e in health_checks(s, i)] for i in (up, down)}
        assert checked == {up: ["healthy"], down: ["unhealthy"]}
        for line_id in (unconfigured, provisioning, awaiting_payment):
            assert health_checks(s, line_id) == []
        assert [verify_signature(m, NOTIFY_SECRET)["lineId"] for m in notify_receiver.messages] == [
            down
        ]


def test_the_worker_checks_again_only_when_the_interval_has_passed(
    settings: Settings, clock: FakeClock, line_server: LineServer
) -> None:
    with api(settings, clock, health_check_seconds=3600) as (s, client):
        line_id = Lines(s, client).active(make_tenant(s, "org_a", Plan.GROWTH), line_server.url)
        s.worker.run_once()
        s.worker.run_once()
        assert len(health_checks(s, line_id)) == 1


def test_a_line_that_stays_down_is_notified_once_across_sweeps(
    settings: Settings,
    clock: FakeClock,
    dead_server: LineServer,
    notify_receiver: NotifyReceiver,
) -> None:
    with api(settings, clock, health_check_seconds=1e-9) as (s, client):
        line_id = Lines(s, client).active(make_tenant(s, "org_a", Plan.GROWTH), dead_server.url)
        for _ in range(3):
            s.worker.run_once()
        assert [e.status.value for e in health_checks(s, line_id)] == ["unhealthy"] * 3
        assert len(notify_receiver.messages) == 1


def test_without_a_schedule_the_worker_checks_nothing(
    settings: Settings, clock: FakeClock, line_server: LineServer
) -> None:
    assert settings.health_check_seconds is None
    with api(settings, clock) as (s, client):
        line_id = Lines(s, client).active(make_tenant(s, "org_a", Plan.GROWTH), line_server.url)
        s.worker.run_once()
        assert health_checks(s, line_id) == []
        assert line_server.paths() == []
