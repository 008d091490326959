"""A fold worker of projections.parallel: `python -m projections.fold_worker JOBS RESULTS`.

It reads pickled objects from the JOBS file descriptor: first a `Start`, then `(after,
upto)` ranges, until None or the end of the pipe. For each range it reads its share of
the log and folds it, and writes one pickled `Answer` to RESULTS. Only the modules it needs
are imported (a fresh interpreter, not a copy of a server process).
"""

from __future__ import annotations

import os
import pickle
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import Engine

from projections.bulk import Bound
from projections.eventlog import ApplicationLog
from projections.folding import Failure, Row, by_request, fold, ready_row, topic_of
from projections.lines import LinesProjection
from projections.schema import metadata
from projections.shares import Share, share_of

# Opens the log for reading in the worker: pickled, so a module-level function or a partial
# of one (api.fold_workers.open_log).
Opener = Callable[[], tuple[ApplicationLog, Engine]]


class Start(NamedTuple):
    share: Share  # which part of the log, and the topics
    opener: Opener
    table: str  # the lines table's name
    keep: int = 20_000  # folded requests kept for their next events


class Folded(NamedTuple):
    bound: Bound | None  # the rows of the requests this share folded, bound for the upsert
    rows: list[Row]  # or the rows themselves where a value could not be bound
    failures: list[Failure]
    unknown: list[Any]  # stored rows of requests for the runner's process to fold
    others: list[Any]  # stored rows of the topics everyone reads (first share only)


class Answer(NamedTuple):
    folded: Folded | None
    error: str | None = None  # what went wrong outside one request's fold


class Worker:
    """One share of the requests, folded range after range in log order; each folded
    request is kept for its next events (at most `start.keep`)."""

    def __init__(self, start: Start) -> None:
        self.events, self.engine = start.opener()
        self.share = start.share
        self.lines = LinesProjection(self.events, metadata.tables[start.table])
        self.keep = start.keep
        self.folded: OrderedDict[UUID, tuple[int, Any]] = OrderedDict()
        self.failed: set[UUID] = set()

    def range(self, after: int, upto: int) -> Folded:
        with self.engine.connect() as conn:
            return self.fold(self.events.share_rows(conn, after, upto, self.share))

    def fold(self, notes: Sequence[Any]) -> Folded:
        share, decode, topics = self.share, self.events.decode, self.share.topics
        part, of = share.part, share.of
        rows = [r for r in notes if r[3].startswith(topics) and share_of(r[1], of) == part]
        mine = [(r[0], decode(r)) for r in rows]
        out: list[Row] = []
        failures: list[Failure] = []
        unknown: set[UUID] = set()
        for aggregate_id, evs in by_request(mine).items():
            if aggregate_id in self.failed:
                continue  # set aside by the runner's process: no later event is applied
            version = evs[0][1].originator_version
            prior = (0, None) if version == 1 else self.folded.pop(aggregate_id, None)
            if prior is None or (prior[1] is not None and prior[1].version != version - 1):
                unknown.add(aggregate_id)
                continue
            try:
                seq, agg = fold(prior, evs)
                row = ready_row(seq, agg)
            except Exception as exc:  # noqa: BLE001 (isolation: set aside, logged, retried)
                self.failed.add(aggregate_id)
                failures.append((aggregate_id, evs[0][0], topic_of(evs[0][1]), repr(exc)))
                continue
            self.folded[aggregate_id] = (seq, agg)
            if row is not None:
                out.append(row)
        while len(self.folded) > self.keep:
            self.folded.popitem(last=False)
        bound = self.lines.bind(self.engine.dialect, out)
        return Folded(
            bound,
            [] if bound else out,
            failures,
            [r for r, pe in zip(rows, mine, strict=True) if pe[1].originator_id in unknown],
            [r for r in notes if r[3].startswith(share.everyone)] if share.everyone else [],
        )


def serve(jobs: Any, results: Any) -> None:
    """Answers ranges until None or the end of `jobs` (binary files)."""
    worker = Worker(pickle.load(jobs))
    pickle.dump(Answer(None), results, pickle.HIGHEST_PROTOCOL)  # ready
    results.flush()
    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:
            return
        if job is None:
            return
        try:
            answer = Answer(worker.range(*job))
        except Exception as exc:  # noqa: BLE001 (reported to the runner, which goes on alone)
            answer = Answer(None, repr(exc))
        pickle.dump(answer, results, pickle.HIGHEST_PROTOCOL)
        results.flush()


def main(argv: list[str]) -> None:
    os.nice(10)  # the fold can wait; the runner's process (a server, maybe) comes first
    try:
        with os.fdopen(int(argv[0]), "rb") as jobs, os.fdopen(int(argv[1]), "wb") as results:
            serve(jobs, results)
    except BrokenPipeError:
        pass  # the runner went on without this worker (it caught up before it was ready)
    # Everything is answered and flushed: tearing down the interpreter (tens of thousands
    # of folded requests) would only keep the runner waiting.
    os._exit(0)


if __name__ == "__main__":
    # Through the module's own name, so what it pickles is `projections.fold_worker.X`,
    # which the runner's process can load, not `__main__.X`.
    from projections import fold_worker

    fold_worker.main(sys.argv[1:])
