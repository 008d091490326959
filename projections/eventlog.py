"""The application's event log, as projections read it: straight from the event store's
table through the read model's own connection, inside the projection's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from application.errors import ServiceBusy
from application.ports import LogTail
from projections.shares import Share, share_filter


class StoredRow(NamedTuple):
    """One stored event as read from the log, not decoded."""

    id: int
    originator_id: Any  # UUID on PostgreSQL, its hex on SQLite
    originator_version: int
    topic: str
    state: bytes


def _param(conn: Connection, name: str) -> str:
    """A named parameter as the connection's driver spells it (psycopg: %(name)s, sqlite3:
    :name): the log is read through the driver's own cursor."""
    return f"%({name})s" if conn.dialect.name == "postgresql" else f":{name}"


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
        self.transcoder = app.mapper.transcoder
        self.table = app.recorder.events_table_name  # type: ignore[attr-defined]
        # topic → (event class, class_version), for topics the mapper was seen to decode
        # with nothing more than the transcoder (see `_mapped`).
        self._kinds: dict[str, tuple[type[Any], int]] = {}
        self._last_uuid: tuple[Any, UUID] = (None, UUID(int=0))

    def _id_column(self, conn: Connection) -> str:
        return "notification_id" if conn.dialect.name == "postgresql" else "rowid"

    def rows(
        self, conn: Connection, after: int, limit: int, upto: int | None = None
    ) -> Sequence[StoredRow]:
        """The stored rows after a position, in log order, not decoded."""
        column = self._id_column(conn)
        after_, upto_, limit_ = (_param(conn, name) for name in ("after", "upto", "limit"))
        bound = f"AND {column} <= {upto_} " if upto is not None else ""
        sql = (
            f"SELECT {column}, originator_id, originator_version, topic, state "
            f"FROM {self.table} WHERE {column} > {after_} {bound}"
            f"ORDER BY {column} LIMIT {limit_}"
        )
        params = {"after": after, "limit": limit, "upto": upto}
        return self._fetch(conn, sql, params)

    def share_rows(
        self, conn: Connection, after: int, upto: int, share: Share
    ) -> Sequence[StoredRow]:
        """The stored rows in (after, upto] of one share of the log (`shares.share_filter`)."""
        column = self._id_column(conn)
        where, params = share_filter(conn.dialect.name, share, partial(_param, conn))
        sql = (
            f"SELECT {column}, originator_id, originator_version, topic, state "
            f"FROM {self.table} WHERE {column} > {_param(conn, 'after')} "
            f"AND {column} <= {_param(conn, 'upto')} AND ({where}) ORDER BY {column}"
        )
        return self._fetch(conn, sql, params | {"after": after, "upto": upto})

    def _fetch(self, conn: Connection, sql: str, params: dict[str, Any]) -> list[StoredRow]:
        # The driver's own cursor: SQLAlchemy's result rows cost more than the fetch
        # itself over a whole log (same transaction, same connection).
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
            return list(map(StoredRow._make, cursor.fetchall()))
        finally:
            cursor.close()

    def decode(self, row: Any) -> Any:
        """One stored row as its domain event (an `Undecodable` if it cannot be)."""
        try:
            return self._to_event(row)
        except Exception as exc:  # noqa: BLE001 (isolation: set aside, logged, retried)
            return Undecodable(row, exc)

    def _to_event(self, row: Any) -> Any:
        position, originator, version, topic, state = row  # by index: names cost more
        if type(state) is not bytes:
            state = bytes(state)
        kind = self._kinds.get(topic)
        if kind is None:
            return self._mapped(position, originator, version, topic, state)
        cls, class_version = kind
        event_state = self.transcoder.decode(state)
        event_state["originator_id"] = self._uuid(originator)
        event_state["originator_version"] = version
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", event_state)
        return event

    def _mapped(
        self, position: int, originator: Any, version: int, topic: str, state: bytes
    ) -> Any:
        """Through the library's mapper; learns the topic's class for the fast path above
        where that is what the mapper would do (no cipher or compressor, UUID ids)."""
        event = self.mapper.to_domain_event(
            Notification(
                id=position,
                originator_id=self._uuid(originator),
                originator_version=version,
                topic=topic,
                state=state,
            )
        )
        cls = type(event)
        plain = self.mapper.cipher is None and self.mapper.compressor is None
        if plain and getattr(cls, "originator_id_type", None) is UUID:
            self._kinds[topic] = (cls, getattr(cls, "class_version", 1))
        return event

    def _uuid(self, originator: Any) -> UUID:
        if type(originator) is UUID:
            return originator
        # An aggregate's events are mostly near each other in the log: one parse for a run.
        last_key, last = self._last_uuid
        if originator != last_key:
            last = UUID(originator)
            self._last_uuid = (originator, last)
        return last

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
