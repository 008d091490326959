"""The application's event log, as projections read it: straight from the event store's
table through the read model's own connection, inside the projection's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from sqlalchemy import Connection, text


class ApplicationLog:
    """Reading through the caller's connection keeps a projection from holding its lock
    while it waits on the event store's own connection pool (which can wait on that lock:
    on SQLite, a deadlock until a timeout). Decoding is deferred, so a projection pays
    only for the events it wants."""

    def __init__(self, app: Application[Any]) -> None:
        self.mapper = app.mapper
        self.table = app.recorder.events_table_name  # type: ignore[attr-defined]

    def _id_column(self, conn: Connection) -> str:
        return "notification_id" if conn.dialect.name == "postgresql" else "rowid"

    def select(
        self, conn: Connection, after: int, limit: int, upto: int | None = None
    ) -> Sequence[tuple[int, str, Callable[[], Any]]]:
        column = self._id_column(conn)
        bound = f"AND {column} <= :upto " if upto is not None else ""
        rows = conn.execute(
            text(
                f"SELECT {column} AS id, originator_id, originator_version, topic, state "
                f"FROM {self.table} WHERE {column} > :after {bound}"
                f"ORDER BY {column} LIMIT :limit"
            ),
            {"after": after, "limit": limit, "upto": upto},
        ).all()
        return [(r.id, r.topic, partial(self._decode, r)) for r in rows]

    def _decode(self, row: Any) -> Any:
        originator = row.originator_id
        notification = Notification(
            id=row.id,
            originator_id=originator if isinstance(originator, UUID) else UUID(originator),
            originator_version=row.originator_version,
            topic=row.topic,
            state=bytes(row.state),
        )
        return self.mapper.to_domain_event(notification)

    def head(self, conn: Connection) -> int:
        column = self._id_column(conn)
        return int(conn.execute(text(f"SELECT MAX({column}) FROM {self.table}")).scalar() or 0)
