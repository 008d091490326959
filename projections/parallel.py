"""Catching the read model up from position 0 with the lines fold in worker processes.

A rebuild spends most of its time in Python decoding events and folding requests, on one
core, and the writes wait for the fold. Folding needs no lock and writes nothing: so here
worker processes read the log and fold, each a share of the requests (by id) with the same
functions as `LinesProjection.apply`, keeping each folded request for its next events,
while the runner's process writes the rows and the position, one transaction per range of
positions as in the serial path. The next ranges are already being folded meanwhile.

Workers are fresh interpreters (`python -m projections.fold_worker`: nothing inherited
from a process with threads, locks or open connections, and only the modules the fold
needs), talking pickles over two pipes. Starting takes a few tenths of a second; the runner's
process catches up serially until every worker is ready, and the workers start from there.

What a worker cannot fold on its own (a request whose earlier events it has not seen or no
longer keeps) goes back to the runner's process, which folds it as it always does, from its
cache or the log; an event that cannot be folded comes back as a failure and is set aside
there. A worker that dies ends the fan-out: the serial path takes over from the last commit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from projections.fold_worker import Answer, Folded, Opener, Start
from projections.lines import LinesProjection
from projections.runner import (
    Projection,
    ProjectionRunner,
    read_position,
    try_lock_projection,
    write_position,
)
from projections.shares import Share

log = logging.getLogger(__name__)
AHEAD = 3  # ranges in flight per worker


class Part(Projection, Protocol):
    topic_prefix: str


class WorkerGone(Exception):
    """A fold worker stopped answering, or answered with an error."""


class Process:
    """One fold worker: ranges in, answers out, in order."""

    def __init__(self, start: Start) -> None:
        jobs_r, jobs_w = os.pipe()
        results_r, results_w = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "projections.fold_worker", str(jobs_r), str(results_w)],
                pass_fds=(jobs_r, results_w),
                stdin=subprocess.DEVNULL,
            )
        finally:
            os.close(jobs_r)
            os.close(results_w)
        self.jobs = os.fdopen(jobs_w, "wb")
        self.results = os.fdopen(results_r, "rb")
        self.ready = False
        self.send(start)

    def send(self, job: Any) -> None:
        try:
            pickle.dump(job, self.jobs, pickle.HIGHEST_PROTOCOL)
            self.jobs.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerGone(f"fold worker {self.process.pid}: {exc!r}") from exc

    def answer(self) -> Folded | None:
        try:
            answer: Answer = pickle.load(self.results)
        except (EOFError, OSError, pickle.UnpicklingError, AttributeError, ImportError) as exc:
            raise WorkerGone(f"fold worker {self.process.pid} exited: {exc!r}") from exc
        if answer.error is not None:
            raise WorkerGone(f"fold worker {self.process.pid}: {answer.error}")
        return answer.folded

    def started(self, wait: bool = False) -> bool:
        """Ready to fold (by default, without waiting to be)."""
        if not self.ready and (wait or select.select([self.results], [], [], 0)[0]):
            self.answer()
            self.ready = True
        return self.ready

    def stop(self) -> None:
        for stream in (self.jobs, self.results):
            with contextlib.suppress(OSError):
                stream.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class FanOut:
    """`ProjectionRunner.catch_up` from position 0 when at least `from_events` are due."""

    def __init__(
        self,
        lines: LinesProjection,
        others: Sequence[Part],
        opener: Opener,
        workers: int | None = None,
        from_events: int = 50_000,
        keep: int = 20_000,
        warm_up: bool = True,
    ) -> None:
        self.keep = keep
        self.warm_up = warm_up  # catch up serially while the workers start
        self.lines = lines
        self.others = list(others)
        self.opener = opener
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)
        self.from_events = from_events

    def wanted(self, start: int, goal: int) -> bool:
        return start == 0 and goal - start >= self.from_events and self.workers > 1

    def catch_up(self, runner: ProjectionRunner, goal: int, still_ours: Callable[[], bool]) -> int:
        """Advance from 0 towards `goal` while `still_ours` (asked before each range);
        returns the position committed (the caller goes on serially from there)."""
        everyone = tuple(part.topic_prefix for part in self.others)
        topics = (self.lines.topic_prefix,)
        workers: list[Process] = []
        try:
            for i in range(self.workers):
                share = Share(i, self.workers, topics, everyone if i == 0 else ())
                start = Start(share, self.opener, self.lines.table.name, self.keep)
                workers.append(Process(start))
            return self._run(runner, goal, workers, still_ours)
        except (WorkerGone, OSError) as exc:
            log.warning("projection %s: %s; going on in-process", runner.name, exc)
            return runner.position()
        finally:
            for worker in workers:
                worker.stop()

    def _run(
        self,
        runner: ProjectionRunner,
        goal: int,
        workers: list[Process],
        still_ours: Callable[[], bool],
    ) -> int:
        reached = 0
        while self.warm_up and reached < goal and not all(w.started() for w in workers):
            with runner.transaction() as conn:  # meanwhile, as the serial path does
                if not try_lock_projection(conn, runner.name):
                    return reached
                reached, count = runner.apply_batch(conn, upto=goal)
            if count < runner.batch:
                return reached
        for worker in workers:
            worker.started(wait=True)
        # Ranges of positions, so the next ones are folded before this one is written.
        ranges = deque(range(reached, goal, runner.batch))
        flying: deque[int] = deque()
        while ranges or flying:
            while ranges and len(flying) < AHEAD:
                after = ranges.popleft()
                upto = min(after + runner.batch, goal)
                for worker in workers:
                    worker.send((after, upto))
                flying.append(upto)
            upto = flying.popleft()
            folded = [w.answer() for w in workers]
            if not still_ours():  # renewed on each range (lost only after a long stall)
                break
            if not self._commit(runner, reached, upto, [f for f in folded if f]):
                break
            reached = upto
        return reached

    def _commit(
        self, runner: ProjectionRunner, start: int, upto: int, folded: list[Folded]
    ) -> bool:
        """One range in one transaction; False if another process holds the projection or
        moved it (the serial path sorts that out)."""
        with runner.transaction() as conn:
            if not try_lock_projection(conn, runner.name):
                return False
            if (read_position(conn, runner.name) or 0) != start:
                return False
            self.lines.apply_folded(
                conn,
                [result.bound for result in folded if result.bound],
                [row for result in folded for row in result.rows],
                [failure for result in folded for failure in result.failures],
            )
            decode = runner.log.decode
            unknown = sorted((r for result in folded for r in result.unknown), key=lambda r: r[0])
            if unknown:  # folded here, from this process's cache or the log
                self.lines.apply(conn, [(r[0], decode(r)) for r in unknown])
            for part in self.others:
                wanted = [(r[0], decode(r)) for r in folded[0].others if part.wants(r[3])]
                if wanted:
                    part.apply(conn, wanted)
            write_position(conn, runner.name, upto)
        return True
