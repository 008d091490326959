"""/healthz (liveness) and /readyz (readiness): ready only when the database answers, the
projections are not stalled and, where a worker runs, its thread is alive; otherwise 503
naming what is wrong. /health keeps answering as before."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from api.app import BackgroundWorker, create_app
from api.bootstrap import Services
from api.readiness_checks import register_checks
from application.readiness import Check
from application.views import WorkKind
from domain.enums import Plan
from tests.observability.conftest import stall_projections, wait_until


def ready(client: TestClient) -> tuple[int, dict[str, Any]]:
    r = client.get("/readyz")
    return r.status_code, r.json()


def test_liveness_and_readiness_answer_ok_when_all_is_well(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/health").json() == {"status": "ok"}
    status, body = ready(client)
    assert status == 200
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "projections", "worker"}
    assert all(c["ok"] for c in body["checks"].values())
    assert body["checks"]["worker"]["detail"] == "not run in this process"


def test_not_ready_while_the_projections_are_stalled_and_ready_again_after(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    stall_projections(services, monkeypatch)
    status, body = ready(client)
    assert status == 503
    assert body["status"] == "not_ready"
    assert body["checks"]["projections"]["ok"] is False
    assert "server closed the connection" in body["checks"]["projections"]["detail"]
    assert body["error"]["code"] == "not_ready"
    assert body["error"]["message"].startswith("projections: stalled")
    assert body["checks"]["database"]["ok"] is True
    assert client.get("/healthz").status_code == 200  # alive all the same

    monkeypatch.undo()
    wait_until(lambda: ready(client)[0] == 200, "readiness to come back")


def test_not_ready_while_the_projections_catch_up_from_far_behind(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read model far behind the log as the process starts (a fresh one over a big log) is
    not stalled, but list reads would wait on it: not ready until it is near the head."""
    follower = services.read_model.follower
    runner = services.runner
    real_catch_up = runner.catch_up
    monkeypatch.setattr(runner, "catch_up", lambda target=None: runner.position())
    monkeypatch.setattr(follower, "far_behind", 2)
    for i in range(3):  # each workspace's creation appends events the follower now skips
        services.workspaces.create(f"behind{i}", Plan.GROWTH, f"behind{i}", True)
    head, position = runner.head(), runner.position()
    assert head - position > 2
    status, body = ready(client)
    assert status == 503
    assert body["checks"]["projections"] == {
        "ok": False,
        "detail": f"catching up: at position {position} of {head}",
    }
    assert body["error"]["message"].startswith("projections: catching up")

    monkeypatch.setattr(runner, "catch_up", real_catch_up)
    wait_until(lambda: ready(client)[0] == 200, "readiness once caught up")

    # Once near the head, a burst behind it later does not take the process out of service
    # (every process shares the read model: all would go at once); a stall still does.
    monkeypatch.setattr(runner, "catch_up", lambda target=None: runner.position())
    for i in range(3):
        services.workspaces.create(f"burst{i}", Plan.GROWTH, f"burst{i}", True)
    assert runner.head() - runner.position() > 2
    assert ready(client)[0] == 200


def test_not_ready_when_the_database_is_unreachable(services: Services) -> None:
    unreachable = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    database = dataclasses.replace(services.database, read_engine=unreachable)
    register_checks(services.readiness, database, services.read_model.follower)
    with TestClient(create_app(services, run_worker=False)) as client:
        status, body = ready(client)
    assert status == 503
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["detail"].startswith("unreachable: ")
    assert body["error"]["message"].startswith("database: unreachable")
    unreachable.dispose()


def test_not_ready_when_the_worker_thread_has_stopped(services: Services) -> None:
    with TestClient(create_app(services, run_worker=True)) as client:
        assert ready(client)[1]["checks"]["worker"] == {"ok": True, "detail": "running"}
        worker: BackgroundWorker = client.app.state.worker  # type: ignore[attr-defined]
        worker.supervised.stop.set()  # the thread ends and its watchdog lets it be
        services.worker.wake()
        worker.supervised.close()
        status, body = ready(client)
    assert status == 503
    assert body["checks"]["worker"] == {"ok": False, "detail": "the worker thread has stopped"}
    assert body["error"]["message"] == "worker: the worker thread has stopped"


def test_readiness_shows_how_often_the_watchdog_restarted_the_worker(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services.worker.run_forever
    calls: list[int] = []

    def dies_once(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("worker bug")
        real(*args)

    monkeypatch.setattr(services.worker, "run_forever", dies_once)
    with TestClient(create_app(services, run_worker=True)) as client:
        worker: BackgroundWorker = client.app.state.worker  # type: ignore[attr-defined]
        wait_until(lambda: worker.supervised.restarts == 1 and worker.supervised.alive,
                   "the watchdog to restart the worker", timeout=20)  # fmt: skip
        status, body = ready(client)
    assert status == 200
    assert body["checks"]["worker"] == {"ok": True, "detail": "running; restarted 1 time(s)"}


def test_a_component_can_register_its_own_check(client: TestClient, services: Services) -> None:
    services.readiness.register("watchdog", lambda: Check(True, "worker restarted 2 time(s)"))
    status, body = ready(client)
    assert status == 200
    assert body["checks"]["watchdog"]["detail"] == "worker restarted 2 time(s)"
    services.readiness.register("watchdog", lambda: Check(False, "gave up"))
    status, body = ready(client)
    assert status == 503 and body["error"]["message"] == "watchdog: gave up"


def test_a_reader_does_not_hang_on_stalled_projections(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list waits for the read model to hold every write; while the projections are stalled
    it gets a short retry and then the rows there are, not the reader's whole wait."""
    stall_projections(services, monkeypatch)
    follower = services.read_model.follower
    answer: list[bool] = []
    reader = threading.Thread(
        target=lambda: answer.append(follower.wait_for(10**9, 3600.0)), daemon=True
    )
    reader.start()
    reader.join(timeout=60)
    assert answer == [False]


def test_not_ready_when_the_worker_thread_is_alive_but_stuck(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(services, run_worker=True)) as client:
        worker: BackgroundWorker = client.app.state.worker  # type: ignore[attr-defined]
        assert worker.supervised.alive
        # As if its last pass or step began longer ago than any step may take.
        monkeypatch.setattr(services.worker, "stuck_for", lambda: worker.hung_after + 1)
        status, body = ready(client)
    assert status == 503
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["detail"] == "the worker has not moved for 301 s"


def test_each_worker_step_counts_as_progress(services: Services) -> None:
    seen: list[float] = []
    services.worker.alive_at = -1e9  # long ago
    services.worker._step(  # where a step begins, the heartbeat moves
        (WorkKind.PROVISION, uuid4()), lambda _: seen.append(services.worker.stuck_for()), True
    )
    assert seen and seen[0] < 60


def test_a_long_pause_between_passes_is_not_a_hang(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(services, run_worker=True)) as client:
        worker: BackgroundWorker = client.app.state.worker  # type: ignore[attr-defined]
        settings = dataclasses.replace(services.settings, worker_interval=200.0)
        monkeypatch.setattr(services, "settings", settings)
        monkeypatch.setattr(services.worker, "stuck_for", lambda: worker.hung_after + 1)
        assert ready(client)[1]["checks"]["worker"] == {"ok": True, "detail": "running"}
