"""The application's event log, as projections read it: straight from the event store's
table through the read model's own connection, inside the projection's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from application.errors import ServiceBusy
from application.ports import LogTail


class Undecodable:
    """Stands for an event that could not be decoded; folding it raises the error."""

    def __init__(self, row: Any, error: Exception) -> None:
        originator = row.originator_id
        self.originator_id = originator if isinstance(originator, UUID) else UUID(originator)
        self.originator_version = row.originator_version
        self.topic = row.topic
        self.error = error

    def mutate(self, aggregate: Any) -> Any:
        raise self.error

    @property
    def items(self) -> Any:
        raise self.error


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

    def rows(
        self, conn: Connection, after: int, limit: int, upto: int | None = None
    ) -> Sequence[Any]:
        """The stored rows (`id`, `originator_id`, `originator_version`, `topic`, `state`)
        after a position, in log order, not decoded."""
        column = self._id_column(conn)
        bound = f"AND {column} <= :upto " if upto is not None else ""
        return conn.execute(
            text(
                f"SELECT {column} AS id, originator_id, originator_version, topic, state "
                f"FROM {self.table} WHERE {column} > :after {bound}"
                f"ORDER BY {column} LIMIT :limit"
            ),
            {"after": after, "limit": limit, "upto": upto},
        ).all()

    def decode(self, row: Any) -> Any:
        """One stored row as its domain event (an `Undecodable` if it cannot be)."""
        try:
            return self._to_event(row)
        except Exception as exc:  # noqa: BLE001 (isolation: set aside, logged, retried)
            return Undecodable(row, exc)

    def _to_event(self, row: Any) -> Any:
        position, originator, version, topic, state = row  # by index: names cost more
        notification = Notification(
            id=position,
            originator_id=originator if isinstance(originator, UUID) else UUID(originator),
            originator_version=version,
            topic=topic,
            state=state if type(state) is bytes else bytes(state),
        )
        return self.mapper.to_domain_event(notification)

    def history(
        self, conn: Connection, aggregate_id: UUID, before_version: int | None = None
    ) -> list[tuple[int, Any]]:
        """One aggregate's (position, event) pairs, oldest first, before a version."""
        column = self._id_column(conn)
        key: Any = aggregate_id if conn.dialect.name == "postgresql" else aggregate_id.hex
        bound = "AND originator_version < :before " if before_version is not None else ""
        rows = conn.execute(
            text(
                f"SELECT {column} AS id, originator_id, originator_version, topic, state "
                f"FROM {self.table} WHERE originator_id = :key {bound}"
                "ORDER BY originator_version"
            ),
            {"key": key, "before": before_version},
        ).all()
        return [(r.id, self.decode(r)) for r in rows]

    def head(self, conn: Connection) -> int:
        column = self._id_column(conn)
        return int(conn.execute(text(f"SELECT MAX({column}) FROM {self.table}")).scalar() or 0)


class SqlLogTail(LogTail):
    """The LogTail port over the events table: (position, id, version) only, no payload."""

    def __init__(self, app: Application[Any], engine: Engine) -> None:
        self.log = ApplicationLog(app)
        self.engine = engine

    def head(self) -> int:
        try:
            with self.engine.connect() as conn:
                return self.log.head(conn)
        except SQLAlchemyError as e:
            raise ServiceBusy(f"The event log is unavailable: {e}") from e

    def since(self, position: int, limit: int) -> list[tuple[int, UUID, int]]:
        try:
            return self._since(position, limit)
        except SQLAlchemyError as e:
            raise ServiceBusy(f"The event log is unavailable: {e}") from e

    def _since(self, position: int, limit: int) -> list[tuple[int, UUID, int]]:
        with self.engine.connect() as conn:
            column = self.log._id_column(conn)
            rows = conn.execute(
                text(
                    f"SELECT {column} AS id, originator_id, originator_version "
                    f"FROM {self.log.table} WHERE {column} > :after ORDER BY {column} "
                    "LIMIT :limit"
                ),
                {"after": position, "limit": limit},
            ).all()
        return [
            (r.id, r.originator_id if isinstance(r.originator_id, UUID) else UUID(r.originator_id),
             r.originator_version)
            for r in rows
        ]  # fmt: skip
