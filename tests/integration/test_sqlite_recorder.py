"""The SQLite event store appends a batch in multi-row statements, with the log positions
the library would give, and takes turns with the projection follower of its process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteCursor

from adapters import sqlite_recorder
from adapters.config import Settings
from adapters.sqlite_recorder import BatchedSQLiteRecorder, TurnTimeout, write_turn
from api.bootstrap import Services, build
from application.errors import ServiceBusy
from domain.enums import Plan
from tests.integration.test_group_commit import phone


@pytest.fixture
def sqlite_services(tmp_path: Path) -> Iterator[Services]:
    services = build(Settings(database_url=f"sqlite:///{tmp_path / 'rec.db'}", db_timeout=1.0))
    try:
        yield services
    finally:
        services.close()


def db_path(services: Services) -> str:
    recorder = services.app.recorder
    assert isinstance(recorder, BatchedSQLiteRecorder)
    return str(recorder.datastore.pool.db_name)


def stored(count: int) -> list[StoredEvent]:
    ids = [uuid4(), uuid4()]
    return [
        StoredEvent(ids[i % 2], i // 2 + 1, f"tests:Event{i}", f'{{"n": {i}}}'.encode())
        for i in range(count)
    ]


def test_a_batch_gets_the_positions_the_log_reads_back_in_order(
    sqlite_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = sqlite_services.app.recorder
    assert isinstance(recorder, BatchedSQLiteRecorder)
    inserts: list[str] = []
    real = SQLiteCursor.execute

    def counted(self: SQLiteCursor, sql: str, *args: Any) -> None:
        if sql.startswith("INSERT"):
            inserts.append(sql)
        real(self, sql, *args)

    monkeypatch.setattr(sqlite_recorder, "CHUNK", 3)
    monkeypatch.setattr(SQLiteCursor, "execute", counted)
    head = recorder.max_notification_id() or 0
    first, second = stored(7), stored(2)
    ids = [*(recorder.insert_events(first) or []), *(recorder.insert_events(second) or [])]

    assert len(inserts) == 3 + 1  # chunks of 3, 3 and 1, then one of 2
    assert ids == list(range(head + 1, head + 10))
    back = recorder.select_notifications(head + 1, 20)
    assert [n.id for n in back] == ids
    assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in back] == [
        (s.originator_id, s.originator_version, s.topic, s.state) for s in first + second
    ]


def test_a_conflicting_batch_stores_nothing(sqlite_services: Services) -> None:
    recorder = sqlite_services.app.recorder
    events = stored(4)
    recorder.insert_events(events[:2])
    head = recorder.max_notification_id()
    with pytest.raises(Exception, match="UNIQUE"):
        recorder.insert_events([events[2], events[0], events[3]])  # events[0] is stored
    assert recorder.max_notification_id() == head


def test_the_writer_and_the_follower_take_the_same_turn(sqlite_services: Services) -> None:
    path = db_path(sqlite_services)
    with sqlite_services.runner.turn():
        assert write_turn(path).locked()
    assert not write_turn(path).locked()


def test_a_command_waits_for_the_turn_and_fails_cleanly_when_it_stays_taken(
    sqlite_services: Services,
) -> None:
    services = sqlite_services
    services.workspaces.create("org_turn", Plan.GROWTH, "Turn", True)
    turn = write_turn(db_path(services))
    with turn:  # as a follower's transaction would, for longer than the timeout (1 s)
        held = services.requests.submit_request(phone("org_turn"))
        with pytest.raises(ServiceBusy):
            held.result(timeout=30)
        waiting = services.requests.submit_request(phone("org_turn", key="second"))
        with pytest.raises(FutureTimeout):
            waiting.result(timeout=0.2)  # still waiting for the turn
        released = threading.Timer(0.1, turn.release)
        released.start()
        view, _ = waiting.result(timeout=30)
        turn.acquire()  # given back to the `with`
    assert services.app.line_request(view.id).workspace_id == "org_turn"
    log = services.app.recorder.select_notifications(1, 1000)
    requested = [n for n in log if n.topic.endswith("LineRequest.Requested")]
    assert [n.originator_id for n in requested] == [view.id]  # the first stored nothing


def test_a_turn_timeout_is_an_os_error_for_the_follower() -> None:
    assert issubclass(TurnTimeout, TimeoutError)
