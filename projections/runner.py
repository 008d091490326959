"""Advances a projection over the event log: rows and tracked position in one transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite

from application.views import CommittedBatch
from projections import set_aside
from projections.claim import CatchUpClaim, Turn
from projections.gc_pause import collector_paused
from projections.handoff import Handoffs
from projections.schema import positions


class EventLog(Protocol):
    """The part of the event store a projection reads."""

    def rows(
        self, conn: Connection, after: int, limit: int, upto: int | None = None
    ) -> Sequence[Any]:
        """Up to `limit` stored rows (position, originator_id, originator_version, topic,
        state) after `after` (and not past `upto`), in log order, not decoded."""
        ...

    def decode(self, row: Any) -> Any:
        """One stored row as its domain event."""
        ...

    def head(self, conn: Connection) -> int: ...


class Projection(Protocol):
    name: str

    def wants(self, topic: str) -> bool: ...

    def apply(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None: ...

    def apply_committed(self, conn: Connection, batches: Sequence[CommittedBatch]) -> None: ...

    def retry(self, conn: Connection, aggregate_id: str) -> None: ...

    def committed(self) -> None: ...

    def rolled_back(self) -> None: ...


def read_position(conn: Connection, name: str) -> int | None:
    value = conn.execute(select(positions.c.position).where(positions.c.name == name)).scalar()
    return None if value is None else int(value)


def write_position(conn: Connection, name: str, position: int) -> None:
    dialect = conn.dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(positions)
    conn.execute(
        insert.values(name=name, position=position).on_conflict_do_update(
            index_elements=[positions.c.name], set_={"position": position}
        )
    )


def forget_position(conn: Connection, name: str) -> None:
    conn.execute(delete(positions).where(positions.c.name == name))


# Keyed by schema as well: read models of deployments (or test runs) sharing one database
# in separate schemas are separate projections.
_LOCK_KEY = "hashtextextended(current_schema() || ':projection:' || :name, 0)"


def lock_projection(conn: Connection, name: str) -> None:
    """Serialise writers of one projection across processes. On SQLite the write engine's
    BEGIN IMMEDIATE already holds the database's write lock; PostgreSQL takes an advisory
    lock that is released with the transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})"), {"name": name})


def try_lock_projection(conn: Connection, name: str) -> bool:
    """As lock_projection, without queueing behind a holder (False: someone else is
    advancing the projection right now)."""
    if conn.dialect.name != "postgresql":
        return True
    got = conn.execute(text(f"SELECT pg_try_advisory_xact_lock({_LOCK_KEY})"), {"name": name})
    return bool(got.scalar())


class FanOut(Protocol):
    """Catching up from far behind with help (projections.parallel)."""

    def wanted(self, start: int, goal: int) -> bool: ...

    def catch_up(
        self, runner: ProjectionRunner, goal: int, still_ours: Callable[[], bool]
    ) -> int: ...


class ProjectionRunner:
    """Only one transaction at a time may advance a projection, whichever process runs it,
    and the position is read after the lock is held, so no two processes ever apply the
    same event."""

    def __init__(
        self,
        projection: Projection,
        log: EventLog,
        write_engine: Engine,
        read_engine: Engine,
        batch: int = 5000,
        handoffs: Handoffs | None = None,
        turn: Callable[[], contextlib.AbstractContextManager[object]] = contextlib.nullcontext,
        fan_out: FanOut | None = None,
        claim: CatchUpClaim | None = None,
    ) -> None:
        self.projection = projection
        self.fan_out = fan_out
        self.claim = claim
        self.turn = turn  # held around each write transaction (adapters.database)
        self.handoffs = handoffs
        self.log = log
        self.write_engine = write_engine
        self.read_engine = read_engine
        self.batch = batch

    @property
    def name(self) -> str:
        return self.projection.name

    def position(self) -> int:
        with self.read_engine.connect() as conn:
            return read_position(conn, self.name) or 0

    def head(self) -> int:
        with self.read_engine.connect() as conn:
            return self.log.head(conn)

    def catch_up(self, target: int | None = None) -> int:
        """Advance until `target` (default: the head when called) is processed, or until
        another process turns out to hold the projection (it is applying these events:
        queueing behind it would only repeat its work). Returns the position reached."""
        reached = self.position()
        goal = self.head() if target is None else target
        fan_out, claim = self.fan_out, self.claim
        turn = claim.turn(reached, goal) if claim else contextlib.nullcontext(Turn(None, True))
        with turn as ours:
            if not ours.ours:
                return reached  # another process (or thread) is catching up from far behind
            # Across batches when far behind: what they cache survives them.
            with collector_paused(goal - reached):
                if fan_out is not None and fan_out.wanted(reached, goal):
                    reached = fan_out.catch_up(self, goal, ours.still_ours)
                while reached < goal:
                    if not ours.still_ours():
                        return reached  # lost after a long stall: the new holder goes on
                    with self.transaction() as conn:
                        if not try_lock_projection(conn, self.name):
                            return reached
                        reached, count = self.apply_batch(conn)
                    if count < self.batch:
                        break
        return reached

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The write transaction; the projection's in-memory state follows its outcome."""
        try:
            with self.turn(), self.write_engine.begin() as conn:
                if conn.dialect.name == "postgresql":  # rebuilt from the log if ever lost
                    conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
                yield conn
        except BaseException:
            self.projection.rolled_back()
            raise
        self.projection.committed()

    def retry_set_aside(self, parts: Sequence[Projection]) -> int:
        """Try again what each part set aside and is due; returns how many came back."""
        released = 0
        with self.transaction() as conn:
            lock_projection(conn, self.name)
            for part in parts:
                for aggregate_id in set_aside.due(conn, part.name, datetime.now(UTC)):
                    try:
                        part.retry(conn, aggregate_id)
                    except Exception as exc:  # noqa: BLE001 (isolation: set aside, logged, retried)
                        set_aside.retry_failed(conn, part.name, aggregate_id, repr(exc))
                        continue
                    set_aside.release(conn, part.name, aggregate_id)
                    released += 1
        return released

    def apply_batch(self, conn: Connection, upto: int | None = None) -> tuple[int, int]:
        """In the caller's locked transaction: apply the next batch after the tracked
        position (not past `upto`) and move the position. Returns (position reached,
        notifications read)."""
        start = read_position(conn, self.name) or 0
        handed = self.handoffs.take(start, self.batch, upto) if self.handoffs else []
        if handed:
            self.projection.apply_committed(conn, handed)
            write_position(conn, self.name, handed[-1].last)
            return handed[-1].last, self.batch  # maybe more: look again
        notes = self.log.rows(conn, start, self.batch, upto)
        with collector_paused(len(notes)):
            return self._apply(conn, start, self._decode(notes), notes)

    def advance_prefetched(self) -> tuple[int, int]:
        """Like one locked apply_batch, but the batch is read and decoded before the
        lock is taken, so the lock (on SQLite, the whole database's) is held only to write."""
        start = self.position()
        with self.read_engine.connect() as conn:
            notes = self.log.rows(conn, start, self.batch)
        with collector_paused(len(notes)):
            wanted = self._decode(notes)
            with self.transaction() as conn:
                lock_projection(conn, self.name)
                if (read_position(conn, self.name) or 0) != start:
                    return start, self.batch  # advanced meanwhile by someone else: read again
                return self._apply(conn, start, wanted, notes)

    def _decode(self, notes: Sequence[Any]) -> list[tuple[int, Any]]:
        """(position, event) of the rows the projection wants: only those are decoded."""
        decode, wants = self.log.decode, self.projection.wants
        return [(row[0], decode(row)) for row in notes if wants(row[3])]

    def _apply(
        self,
        conn: Connection,
        start: int,
        wanted: list[tuple[int, Any]],
        notes: Sequence[Any],
    ) -> tuple[int, int]:
        if not notes:
            return start, 0
        if wanted:
            self.projection.apply(conn, wanted)
        last = int(notes[-1][0])
        write_position(conn, self.name, last)
        return last, len(notes)
