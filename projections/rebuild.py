"""Zero-downtime rebuild: replay from position 0 into a shadow table while the live read
model keeps serving, then swap the rows in one transaction under the projection's lock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, MetaData, Table, delete, insert, inspect, select

from projections.eventlog import ApplicationLog
from projections.lines import LinesProjection
from projections.runner import (
    ProjectionRunner,
    forget_position,
    lock_projection,
    read_position,
    write_position,
)
from projections.schema import line_views


class RebuildRunning(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"A rebuild of projection {name!r} is already running.")


class UnknownProjection(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"No projection is named {name!r}; known: lines.")


@dataclass(frozen=True)
class Progress:
    done: int
    head: int
    rate: float

    @property
    def eta_seconds(self) -> float:
        return max(0, self.head - self.done) / self.rate if self.rate else float("inf")


def shadow_table(live: Table) -> Table:
    """Same columns (primary key included), no secondary indexes, so no name clashes."""
    return Table(f"{live.name}_rebuild", MetaData(), *[c._copy() for c in live.columns])


class Lease(Protocol):
    """Held by one process at a time (the adapters' SqlLease)."""

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class Rebuilder:
    """Resumable: the shadow table and its position survive an interruption, and the next
    run continues from there. `lease` keeps two rebuilds from running at once."""

    def __init__(
        self,
        log: ApplicationLog,
        write_engine: Engine,
        read_engine: Engine,
        lease: Lease,
        batch: int = 5000,
    ) -> None:
        self.log = log
        self.write_engine = write_engine
        self.read_engine = read_engine
        self.lease = lease
        self.live = line_views
        self.shadow = shadow_table(line_views)
        self.projection = LinesProjection(self.shadow, name="lines:rebuild")
        self.runner = ProjectionRunner(self.projection, log, write_engine, read_engine, batch)

    def rebuild(self, report: Callable[[Progress], None] = lambda p: None) -> int:
        """Returns the position the live read model holds after the swap."""
        if not self.lease.acquire():
            raise RebuildRunning("lines")
        try:
            self._prepare()
            started, first = time.monotonic(), self.runner.position()
            while True:
                with self.write_engine.begin() as conn:
                    lock_projection(conn, self.projection.name)
                    done, count = self.runner.apply_batch(conn)
                elapsed = max(time.monotonic() - started, 1e-9)
                report(Progress(done, self.log.head(), (done - first) / elapsed))
                self.lease.acquire()  # renew
                if count < self.runner.batch:
                    break
            return self._swap()
        finally:
            self.lease.release()

    def _prepare(self) -> None:
        with self.write_engine.begin() as conn:
            resuming = read_position(conn, self.projection.name) is not None
            if resuming and inspect(conn).has_table(self.shadow.name):
                return
            self.shadow.drop(conn, checkfirst=True)
            self.shadow.create(conn)
            write_position(conn, self.projection.name, 0)

    def _swap(self) -> int:
        """Under the live projection's lock: finish the shadow up to the head, replace the
        live rows with it and take over its position, all in one transaction."""
        with self.write_engine.begin() as conn:
            lock_projection(conn, "lines")
            lock_projection(conn, self.projection.name)
            while self.runner.apply_batch(conn)[1] == self.runner.batch:
                pass
            position = read_position(conn, self.projection.name) or 0
            conn.execute(delete(self.live))
            conn.execute(insert(self.live).from_select(self.live.c.keys(), select(self.shadow)))
            write_position(conn, "lines", position)
            forget_position(conn, self.projection.name)
            self.shadow.drop(conn)
        return position
