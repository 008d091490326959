"""One writer at a time across processes, on PostgreSQL.

The event store's insert already serialises appends (`LOCK TABLE … IN EXCLUSIVE MODE`), so
holding a session advisory lock around decide-and-save costs little: it moves the wait before
the decision instead of after it. Then no other process can write between a writer's look at
the log and its save, and no batch is decided on stale aggregates and thrown away.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from application.errors import ServiceBusy, store_unavailable

# Keyed by schema: deployments (and test runs) sharing one database in separate schemas
# must not take turns with each other. current_schema() is the first of search_path.
KEY = "hashtextextended(current_schema() || ':tuco:event-writer', 0)"


class PgWriteLock:
    """Used by the one writer thread of a process: its lock connection is kept open (no
    pool checkout per batch) in autocommit, so taking and releasing the lock are one round
    trip each; both sit in the section all processes take turns through."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Held until the block ends; lock_timeout (TUCO_DB_TIMEOUT) bounds the wait."""
        kept = self._conn is not None
        try:
            self._run(f"SELECT pg_advisory_lock({KEY})")
        except _Disconnected:
            if not kept:
                raise
            # The kept session died while idle (e.g. a server restart): once more on a new
            # one before the batch fails.
            self._run(f"SELECT pg_advisory_lock({KEY})")
        try:
            yield
        finally:
            with suppress(ServiceBusy):  # then the session is gone, and its lock with it
                self._run(f"SELECT pg_advisory_unlock({KEY})")

    def _run(self, sql: str) -> None:
        try:
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._conn.execute(text(sql))
        except DBAPIError as e:
            self.close()
            if e.connection_invalidated:
                raise _Disconnected(f"The event store is unavailable: {e}") from e
            raise store_unavailable(e) from e
        except SQLAlchemyError as e:
            self.close()
            raise store_unavailable(e) from e

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.invalidate()
                conn.close()
            except SQLAlchemyError:
                pass


class _Disconnected(ServiceBusy):
    """The lock's session was lost (not a lock timeout)."""
