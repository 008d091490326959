"""Zero-downtime rebuild: replay from position 0 into a shadow table while the live read
model keeps serving, then swap the rows in one transaction under the projection's lock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import MetaData, Table, delete, insert, inspect, select

from projections.eventlog import ApplicationLog
from projections.gc_pause import collector_paused
from projections.lines import LinesProjection
from projections.runner import (
    Projection,
    ProjectionRunner,
    forget_position,
    lock_projection,
    read_position,
    write_position,
)
from projections.schema import line_usage, line_views
from projections.usage import UsageProjection

# Each rebuildable read model: its live table, and how to project into a copy of it.
TARGETS: dict[str, tuple[Table, Callable[[ApplicationLog, Table, str], Projection]]] = {
    "lines": (line_views, LinesProjection),
    "usage": (line_usage, UsageProjection),
}


class RebuildRunning(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"A rebuild of projection {name!r} is already running.")


class UnknownProjection(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"No projection is named {name!r}; known: {', '.join(TARGETS)}.")


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
        target: str,
        log: ApplicationLog,
        live_runner: ProjectionRunner,
        lease: Lease,
        batch: int = 5000,
    ) -> None:
        if target not in TARGETS:
            raise UnknownProjection(target)
        self.target = target
        self.log = log
        self.live_runner = live_runner
        self.write_engine = live_runner.write_engine
        self.lease = lease
        self.live, make_projection = TARGETS[target]
        self.shadow = shadow_table(self.live)
        self.projection = make_projection(log, self.shadow, f"{target}:rebuild")
        self.runner = ProjectionRunner(
            self.projection,
            log,
            live_runner.write_engine,
            live_runner.read_engine,
            batch,
            turn=live_runner.turn,
        )

    def rebuild(self, report: Callable[[Progress], None] = lambda p: None) -> int:
        """Returns the position the live read model holds after the swap."""
        if not self.lease.acquire():
            raise RebuildRunning(self.target)
        try:
            self._prepare()
            started, first = time.monotonic(), self.runner.position()
            with collector_paused():  # across batches: what they cache survives them
                while True:
                    done, count = self.runner.advance_prefetched()
                    elapsed = max(time.monotonic() - started, 1e-9)
                    report(Progress(done, self.runner.head(), (done - first) / elapsed))
                    self.lease.acquire()  # renew
                    if count < self.runner.batch:
                        break
            return self._swap()
        finally:
            self.lease.release()

    def _prepare(self) -> None:
        with self.live_runner.turn(), self.write_engine.begin() as conn:
            resuming = read_position(conn, self.projection.name) is not None
            if resuming and inspect(conn).has_table(self.shadow.name):
                return
            self.shadow.drop(conn, checkfirst=True)
            self.shadow.create(conn)
            write_position(conn, self.projection.name, 0)

    def _swap(self) -> int:
        """Under the live read model's lock, in one transaction: bring the live read model
        and the shadow to the same position (the head), then replace the live rows."""
        live = self.live_runner
        with live.turn(), self.write_engine.begin() as conn:
            lock_projection(conn, live.name)
            lock_projection(conn, self.projection.name)
            while live.apply_batch(conn)[1] == live.batch:
                pass
            # Writers keep appending meanwhile: the shadow stops where the live one did.
            position = read_position(conn, live.name) or 0
            while self.runner.apply_batch(conn, upto=position)[1] == self.runner.batch:
                pass
            shadow_position = read_position(conn, self.projection.name) or 0
            if shadow_position < position:  # e.g. the last events were not this model's
                write_position(conn, self.projection.name, position)
            conn.execute(delete(self.live))
            conn.execute(insert(self.live).from_select(self.live.c.keys(), select(self.shadow)))
            forget_position(conn, self.projection.name)
            self.shadow.drop(conn)
        return position
