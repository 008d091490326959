"""The worker never dies: one item's exception is logged with its traceback and retried with
capped backoff while the others go on; a worker thread that dies anyway is restarted by a
watchdog (1 s doubling to 60 s) and the restarts are counted (issue 12 point 3)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from adapters.sandbox_provisioner import SandboxProvisioner
from api.app import create_app
from api.bootstrap import build
from application.ports import ProvisioningOrder, ProvisioningOutcome
from application.supervisor import Supervised, next_delay
from application.worker import Backoff
from domain.enums import Plan
from tests.conftest import make_tenant
from tests.http.helpers import created, get_request, phone_body
from tests.support.fakes import FakeClock


class Died(BaseException):
    """What no `except Exception` catches: the thread really ends."""


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling a condition with a deadline


def test_restart_delays_start_at_one_second_and_double_up_to_a_minute() -> None:
    delays: list[float] = []
    delay = None
    for _ in range(9):
        delay = next_delay(delay, 1.0, 60.0)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_thread_that_dies_is_restarted_with_growing_delays_and_counted() -> None:
    runs: list[int] = []
    done = threading.Event()

    def target(stop: threading.Event) -> None:
        runs.append(1)
        if len(runs) <= 2:
            raise Died("out of luck")
        done.set()
        stop.wait()

    supervised = Supervised("test-worker", target, first_delay=0.01, max_delay=1.0)
    supervised.start()
    try:
        assert done.wait(20), "the thread was not restarted"
        assert supervised.restarts == 2
        assert supervised.delays == [0.01, 0.02]
        assert supervised.alive
        assert supervised.last_error == "Died('out of luck')"
    finally:
        supervised.close()
    assert not supervised.alive
    assert len(runs) == 3  # stopping is not dying: no restart after close


class FlakyProvisioner(SandboxProvisioner):
    """Raises a bug for one workspace's requests; the others are provisioned."""

    def __init__(self, clock: FakeClock, broken_workspace: str) -> None:
        super().__init__(clock, 0, "http://testserver")
        self.broken_workspace = broken_workspace
        self.broken_calls = 0

    def provision(self, order: ProvisioningOrder) -> ProvisioningOutcome:
        if order.workspace_id == self.broken_workspace:
            self.broken_calls += 1
            raise RuntimeError("provisioner bug")
        return super().provision(order)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_failing_item_is_logged_and_backed_off_while_the_others_go_on(
    settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyProvisioner(clock, "org_broken")
    s = build(settings, clock=clock, provisioner=flaky)
    mono = Monotonic()
    s.worker.backoff = Backoff(cap=300.0, clock=mono)
    try:
        with TestClient(create_app(s, run_worker=False)) as client:
            broken = make_tenant(s, "org_broken", Plan.GROWTH)
            fine = make_tenant(s, "org_fine", Plan.GROWTH)
            broken_id = created(client, broken, phone_body())["line"]["_id"]
            with caplog.at_level(logging.ERROR, logger="application.worker"):
                s.worker.run_once()
            fine_id = created(client, fine, phone_body())["line"]["_id"]
            s.worker.run_once()  # the broken item is still backing off
            assert get_request(client, fine, fine_id).json()["status"] == "active"
            assert get_request(client, broken, broken_id).json()["status"] == "provisioning"
            assert flaky.broken_calls == 1
            (record,) = [r for r in caplog.records if broken_id in r.getMessage()]
            assert record.exc_info is not None and "provisioner bug" in str(record.exc_info[1])

            mono.now += 1.0  # the first retry comes after 1 s, then 2 s, 4 s …
            s.worker.run_once()
            assert flaky.broken_calls == 2
            mono.now += 1.0
            s.worker.run_once()
            assert flaky.broken_calls == 2
            for _ in range(12):
                mono.now += 300.0
                s.worker.run_once()
            key = next(iter(s.worker.backoff._failures))
            assert s.worker.backoff._failures[key][1] - mono.now == 300.0  # capped
    finally:
        s.close()


def test_a_worker_thread_that_dies_is_restarted_and_works_again(
    settings: Settings, clock: FakeClock
) -> None:
    s = build(replace(settings, sandbox_provision_seconds=0, worker_interval=0.05), clock=clock)
    original = s.worker.run_forever
    calls: list[int] = []

    def dies_first(stop: threading.Event, interval: float, is_leader: Callable[[], bool]) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise Died("worker thread killed")
        original(stop, interval, is_leader)

    s.worker.run_forever = dies_first  # type: ignore[method-assign]
    try:
        with TestClient(create_app(s)) as client:
            supervisor = s.worker_supervisor
            assert supervisor is not None
            wait_until(lambda: supervisor.restarts == 1, "the worker thread to be restarted")
            t = make_tenant(s, "org_growth", Plan.GROWTH)
            request_id = created(client, t, phone_body())["line"]["_id"]
            wait_until(
                lambda: get_request(client, t, request_id).json()["status"] == "active",
                "the restarted worker to provision the line",
            )
            assert supervisor.alive and supervisor.delays == [1.0]
            assert s.app.line_request(UUID(request_id)).state.value == "active"  # type: ignore[union-attr]
    finally:
        s.close()
