"""One writer at a time across processes, on PostgreSQL.

The event store's insert already serialises appends (`LOCK TABLE … IN EXCLUSIVE MODE`), so
holding a session advisory lock around decide-and-save costs little: it moves the wait before
the decision instead of after it. Then no other process can write between a writer's look at
the log and its save, and no batch is decided on stale aggregates and thrown away.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from application.errors import store_unavailable

# Keyed by schema: deployments (and test runs) sharing one database in separate schemas
# must not take turns with each other. current_schema() is the first of search_path.
KEY = "hashtextextended(current_schema() || ':tuco:event-writer', 0)"


class PgWriteLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Held until the block ends; lock_timeout (TUCO_DB_TIMEOUT) bounds the wait."""
        try:
            conn = self.engine.connect()
            conn.execute(text(f"SELECT pg_advisory_lock({KEY})"))
            conn.commit()
        except SQLAlchemyError as e:
            raise store_unavailable(e) from e
        try:
            yield
        finally:
            try:
                conn.execute(text(f"SELECT pg_advisory_unlock({KEY})"))
                conn.commit()
            except SQLAlchemyError:  # the session is gone, and its lock with it
                conn.invalidate()
            finally:
                conn.close()
