"""The library's PostgreSQL recorder, failing fast when the server is gone.

The library retries each statement up to 10 times, and each try may wait the pool's
timeout for a connection: about 10 x (timeout + 0.2 s) before an error surfaces. With one
writer thread per process that would stall every command for that long. Here a statement is
tried twice (once more after a pooled connection turned out dead), then the error surfaces
and the command answers 503 at once.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import InterfaceError, OperationalError

_twice = retry((InterfaceError, OperationalError), max_attempts=2, wait=0.05)


def _unwrapped(name: str) -> Any:
    method = getattr(PostgresApplicationRecorder, name)
    return getattr(method, "__wrapped__", method)


class FailFastPostgresRecorder(PostgresApplicationRecorder):
    insert_events = _twice(_unwrapped("insert_events"))
    select_events = _twice(_unwrapped("select_events"))
    select_notifications = _twice(_unwrapped("select_notifications"))
