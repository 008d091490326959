"""The library's SQLite recorder, appending a batch in one statement, taking turns with the
process's other writers of the same file.

A SQLite file has one writer at a time. The group-commit writer and the projection follower
of a process each hold a write transaction many times a second; when one found the other's
lock, SQLite's busy handler slept 1, 2, 5, 10 ms... before trying again. They take turns on
a lock of the process instead (`write_turn`), so the wait ends when the other commits.
Other processes still meet SQLite's lock and busy timeout, as before.

The library inserts events one statement each, and each statement lets go of the GIL and
has to win it back from the event loop: up to a switch interval (5 ms) each time, for every
event of a batch, on the path every command waits for. One multi-row INSERT per chunk does
the same inside SQLite with one statement.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

_turns: dict[str, threading.Lock] = {}
_turns_guard = threading.Lock()

# Four values a row; SQLite allows 32,766 bound values a statement (since 3.32).
CHUNK = 2_000


def write_turn(path: str) -> threading.Lock:
    """The process's lock for writing the SQLite file at `path` (one per file)."""
    with _turns_guard:
        return _turns.setdefault(path, threading.Lock())


class TurnTimeout(OperationalError, TimeoutError):
    """The file's write turn was not free within the timeout: the event store's writer sees
    the library's OperationalError (answered 503), a projection follower an OSError (its
    loop backs off and retries)."""


class TakeTurns:
    """A context manager over a file's write turn that gives up after `timeout` seconds
    (as SQLite's busy timeout would) instead of waiting forever."""

    def __init__(self, path: str, timeout: float) -> None:
        self.lock = write_turn(path)
        self.timeout = timeout

    def __enter__(self) -> None:
        if not self.lock.acquire(timeout=self.timeout):
            raise TurnTimeout(f"database is locked: no write turn within {self.timeout:g} s")

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


class BatchedSQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pool = self.datastore.pool
        self._turn = TakeTurns(pool.db_name, float(pool.lock_timeout or 5))

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with self._turn:
            return super().insert_events(stored_events, **kwargs)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int] | None:
        ids: list[int] = []
        table = self.events_table_name
        for start in range(0, len(stored_events), CHUNK):
            chunk = stored_events[start : start + CHUNK]
            values: list[Any] = []
            for s in chunk:
                originator = s.originator_id
                values += (
                    originator.hex if isinstance(originator, UUID) else originator,
                    s.originator_version,
                    s.topic,
                    s.state,
                )
            c.execute(
                f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                f"VALUES {', '.join(['(?, ?, ?, ?)'] * len(chunk))}",
                values,
            )
            # Inside the write transaction SQLite numbers new rows max(rowid) + 1, one after
            # the other, so the statement's rows end at the last rowid. (Only once a rowid
            # reached 2**63 - 1 would it pick free ones at random: refused, never guessed.)
            last = c.lastrowid
            if last is None or last >= 2**63 - 1:
                raise OperationalError(f"cannot tell the positions of new rows (last {last})")
            ids += range(last - len(chunk) + 1, last + 1)
        return ids
