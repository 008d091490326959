"""A catch-up from position 0 with fold workers (projections.parallel) stores what the
serial one stores, on both backends: the same rows, usage and position, the same requests
set aside when an event cannot be folded; and a worker that fails leaves the work to the
runner's process instead of failing it."""

from __future__ import annotations

import functools
import logging
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import delete, text
from starlette.testclient import TestClient

from adapters.lease import SqlLease
from api.bootstrap import Services
from api.fold_workers import open_log
from projections import parallel
from projections.claim import CatchUpClaim
from projections.parallel import FanOut
from projections.schema import line_usage, line_views, positions
from projections.schema import set_aside as set_aside_table
from tests.audit.conftest import Story, head, position, rows
from tests.audit.generate import generate
from tests.audit.test_rebuild import record_usage, usage_rows


def from_zero(services: Services, fan_out: FanOut | None, batch: int = 7) -> int:
    """Forget the read model, then catch it up from 0 (`fan_out` None: serially)."""
    with services.database.write_engine.begin() as conn:
        for table in (line_views, line_usage, set_aside_table):
            conn.execute(delete(table))
        conn.execute(delete(positions).where(positions.c.name == services.runner.name))
    runner = services.runner
    runner.fan_out, runner.batch = fan_out, batch
    runner.handoffs = None  # from the log itself, not from what the writer handed over
    return runner.catch_up()


@pytest.fixture(autouse=True)
def _warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="projections.parallel")


def fanned(caplog: pytest.LogCaptureFixture) -> bool:
    """The workers did the work (they did not fail, leaving it to the runner's process)."""
    return not any(r.name == "projections.parallel" for r in caplog.records)


def fan_out(services: Services, database_url: str, **options: Any) -> FanOut:
    lines, usage = services.runner.projection.parts  # type: ignore[attr-defined]
    opener = functools.partial(open_log, database_url, 5.0)
    return FanOut(
        lines, [usage], opener, **{"workers": 2, "from_events": 1, "warm_up": False, **options}
    )


def aside(services: Services) -> dict[str, tuple[int, str]]:
    with services.database.read_engine.connect() as conn:
        found = conn.execute(text("SELECT aggregate_id, position, topic FROM projection_set_aside"))
        return {r.aggregate_id: (r.position, r.topic) for r in found}


@pytest.fixture
def log(services: Services, client: TestClient, story: Story) -> list[UUID]:
    """Every lifecycle (the story), a few dozen more requests, and usage of some."""
    made = generate(services, 2, 25, activate_every=3)
    ids = [rid for requests in made.lines.values() for rid in requests]
    record_usage(services, ids[:5])
    assert services.read_model.wait_for()
    services.read_model.follower.close()  # from here on, only the test advances the model
    return ids


@pytest.mark.parametrize("keep", [20_000, 0], ids=["kept", "forgotten"])
def test_the_rows_and_position_are_those_of_the_serial_catch_up(
    services: Services,
    database_url: str,
    log: list[UUID],
    keep: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`forgotten`: a worker keeps no folded request, so every later event comes back to
    the runner's process, which folds them from its cache or the log."""
    assert from_zero(services, None) == head(services)
    serial, usage = rows(services), usage_rows(services)
    assert len(serial) == 5 + 50 and len(usage) == 5

    assert from_zero(services, fan_out(services, database_url, keep=keep)) == head(services)
    assert fanned(caplog)
    assert rows(services) == serial
    assert usage_rows(services) == usage
    assert position(services) == head(services)


def test_an_event_that_cannot_be_folded_sets_its_request_aside_as_serially(
    services: Services, database_url: str, log: list[UUID], caplog: pytest.LogCaptureFixture
) -> None:
    broken = log[7]  # its second event (ProvisioningStarted) is unreadable
    events = services.app.recorder.events_table_name  # type: ignore[attr-defined]
    key: Any = broken if services.database.dialect == "postgresql" else broken.hex
    with services.database.write_engine.begin() as conn:
        changed = conn.execute(
            text(
                f"UPDATE {events} SET state = :bad "
                "WHERE originator_id = :id AND originator_version = 2"
            ),
            {"bad": b"{not json", "id": key},
        )
        assert changed.rowcount == 1
    from_zero(services, None)
    serial, serial_aside = rows(services), aside(services)
    assert list(serial_aside) == [str(broken)]

    from_zero(services, fan_out(services, database_url))
    assert fanned(caplog)
    assert aside(services) == serial_aside
    assert rows(services) == serial
    assert position(services) == head(services)


def test_a_worker_that_fails_leaves_the_catch_up_to_the_runner(
    services: Services, log: list[UUID], caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    from_zero(services, None)
    serial = rows(services)
    nowhere = f"sqlite:///{tmp_path}/missing/none.db"  # the workers cannot read the log
    failing = fan_out(services, nowhere)
    assert from_zero(services, failing) == head(services)
    assert not fanned(caplog)
    assert "going on in-process" in caplog.text
    assert rows(services) == serial


def started_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the fold workers started from here on."""
    started: list[int] = []

    class Counted(parallel.Process):
        def __init__(self, start: Any) -> None:
            started.append(1)
            super().__init__(start)

    monkeypatch.setattr(parallel, "Process", Counted)
    return started


def test_one_process_at_a_time_catches_up_from_far_behind(
    services: Services,
    database_url: str,
    log: list[UUID],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """N server processes on a fresh read model: the one holding the claim folds the log,
    the others leave it alone (no fold workers, no position moved) until it is done."""
    engine = services.database.write_engine
    other = SqlLease(engine, "catch-up:test", "another process", ttl=60)
    ours = SqlLease(engine, "catch-up:test", "this process", ttl=60)
    services.runner.claim = claim = CatchUpClaim(ours, from_events=1)
    claim.refusal_memory = 0.0  # ask the lease again on the next catch-up
    started = started_workers(monkeypatch)
    assert other.acquire()
    assert from_zero(services, fan_out(services, database_url)) == 0
    assert (position(services) or 0) == 0 and rows(services) == {}
    assert started == []

    other.release()
    assert from_zero(services, fan_out(services, database_url)) == head(services)
    assert fanned(caplog) and len(started) == 2
    assert len(rows(services)) == 5 + 50
    assert other.acquire()  # released again once caught up


def test_a_lost_claim_stops_the_catch_up_where_it_committed(
    services: Services, database_url: str, log: list[UUID]
) -> None:
    class Lost:
        """Held for the first range only (as if it expired in a long stall)."""

        def __init__(self) -> None:
            self.asked = 0

        def try_acquire(self) -> bool:
            self.asked += 1
            return self.asked <= 2  # the catch-up's own claim, then its first range

        def release(self) -> None:
            pass

    services.runner.claim = CatchUpClaim(Lost(), from_events=1)
    reached = from_zero(services, fan_out(services, database_url))
    assert 0 < reached < head(services)
    assert position(services) == reached
