"""Group commit: one writer thread per process decides queued commands in order against
cached aggregates and appends the events of the whole batch in one transaction.

A command is acknowledged only after its batch commits. When another process wrote one of
the batch's aggregates first (optimistic concurrency), the aggregates the batch touched are
reloaded and its commands decided again; the rules hold because every decision that spans a
request and its workspace saves both, so a stale workspace can never commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError

from application.aggregates import Aggregates
from application.errors import ServiceBusy, store_unavailable
from application.metrics import command_tally
from application.session import Session
from application.views import CommittedBatch
from domain.errors import DomainError

T = TypeVar("T")
log = logging.getLogger(__name__)


Command = Callable[[Session], T]


@dataclass
class _Item(Generic[T]):
    command: Command[T]
    future: Future[T] = field(default_factory=Future)
    # Set for callers in an event loop: settled in that loop, once per batch and loop.
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[T] | None = None


Outcome = tuple[_Item[Any], Any, BaseException | None]


class Writer:
    """Submit commands from any thread (`submit`, `execute`) or an event loop
    (`submit_async`); one thread decides and stores them, a batch at a time."""

    max_batch = 256
    max_attempts = 12

    def __init__(
        self,
        aggregates: Aggregates,
        save: Callable[[list[Aggregate]], CommittedBatch | None],
        on_commit: Callable[[CommittedBatch], None] = lambda batch: None,
        exclusive: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
    ) -> None:
        self.aggregates = aggregates
        self._save = save
        self._on_commit = on_commit
        # Held around each decide-and-save, across processes where the store offers it:
        # then no other process can write in between, and no batch is decided twice.
        self.exclusive = exclusive
        self._queue: queue.SimpleQueue[_Item[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.outcomes = command_tally()  # read by /metrics

    def submit(self, command: Command[T]) -> Future[T]:
        item: _Item[T] = _Item(command)
        self._ensure_started()
        self._queue.put(item)
        return item.future

    def submit_async(self, command: Command[T]) -> asyncio.Future[T]:
        """Submit from an event loop: the returned future is settled in that loop, with one
        wake-up for all of a batch's commands (not one per command)."""
        loop = asyncio.get_running_loop()
        item: _Item[T] = _Item(command, loop=loop, waiter=loop.create_future())
        self._ensure_started()
        self._queue.put(item)
        assert item.waiter is not None
        return item.waiter

    def execute(self, command: Command[T]) -> T:
        """Submit and wait for the batch holding this command to commit."""
        return self.submit(command).result()

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="tuco-writer", daemon=True)
                thread.start()
                self._thread = thread

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                self._commit(batch)
            except ServiceBusy as e:
                log.warning("commands not stored: %s", e)
                self._fail(batch, e)
            except Exception as e:  # supervised: a writer that dies would stall every command
                log.exception("group commit failed")
                self._fail(batch, ServiceBusy(f"The command could not be stored: {e}"))

    def _commit(self, batch: list[_Item[Any]]) -> None:
        pending = list(batch)
        conflicts = 0
        while pending:
            with self.exclusive():
                outcome = self._attempt(pending)
            if outcome == "done":
                return
            if outcome == "conflict":
                conflicts += 1
                if conflicts >= self.max_attempts:
                    self._fail(pending, ServiceBusy("Too many concurrent changes; retry."))
                    return

    def _attempt(self, pending: list[_Item[Any]]) -> str:
        """Decide `pending` in order and save the batch: "done", "conflict" (another
        process won a race: decide again after reloading) or "again" (a faulty command was
        taken out of `pending`)."""
        self.aggregates.refresh()
        touched: dict[UUID, Aggregate] = {}
        results: list[Outcome] = []
        for item in pending:
            outcome = self._decide(item, touched)
            if outcome is None:  # its half-recorded events must not be saved
                self.aggregates.evict(touched)
                pending.remove(item)
                return "again"
            results.append(outcome)
        changed = [a for a in touched.values() if a.pending_events]
        try:
            committed = self._save(changed) if changed else None
        except IntegrityError:
            self.aggregates.evict(touched)
            return "conflict"
        except PersistenceError as e:
            self.aggregates.evict(touched)
            self._fail(pending, store_unavailable(e))
            return "done"
        except Exception:
            self.aggregates.evict(touched)
            raise
        self.aggregates.committed(touched.values())
        if committed is not None:
            self._on_commit(committed)
        self._answer(results)
        return "done"

    def _decide(self, item: _Item[Any], touched: dict[UUID, Aggregate]) -> Outcome | None:
        """Run one command; None when it failed in a way that spoils this pass (its
        caller has been answered)."""
        session = Session(self.aggregates, touched)
        marks = {k: len(a.pending_events) for k, a in touched.items()}
        try:
            return (item, item.command(session), None)
        except DomainError as e:
            if not _mutated(touched, marks):
                return (item, None, e)
            log.error("command raised %r after recording events", e)  # a guard after an event
            self._answer([(item, None, e)])
        except (ServiceBusy, PersistenceError) as e:
            self._answer([(item, None, store_unavailable(e))])
        except Exception as e:  # one faulty command fails alone, the rest go on
            log.exception("command failed")
            self._answer([(item, None, e)])
        return None

    def _fail(self, batch: list[_Item[Any]], error: BaseException) -> None:
        self._answer([(item, None, error) for item in batch])

    def _answer(self, outcomes: list[Outcome]) -> None:
        """Count each command's outcome, then hand it its answer."""
        counts: dict[tuple[str, str], int] = {}
        for _, _, error in outcomes:
            key = ("ok", "") if error is None else (_outcome(error), type(error).__name__)
            counts[key] = counts.get(key, 0) + 1
        for key, n in counts.items():
            self.outcomes.inc(*key, by=n)
        _settle(outcomes)


def _outcome(error: BaseException) -> str:
    if isinstance(error, DomainError):
        return "refused"
    return "unavailable" if isinstance(error, ServiceBusy) else "error"


def _settle(outcomes: list[Outcome]) -> None:
    """Hand each command its answer: thread callers through their future, event-loop
    callers through one call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        item, value, error = outcome
        if item.loop is not None:
            by_loop.setdefault(item.loop, []).append(outcome)
        elif not item.future.done():
            if error is None:
                item.future.set_result(value)
            else:
                item.future.set_exception(error)
    for loop, mine in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(_settle_waiters, mine)


def _settle_waiters(outcomes: list[Outcome]) -> None:
    for item, value, error in outcomes:
        waiter = item.waiter
        if waiter is None or waiter.done():  # e.g. the client went away
            continue
        if error is None:
            waiter.set_result(value)
        else:
            waiter.set_exception(error)


def _mutated(touched: dict[UUID, Aggregate], marks: dict[UUID, int]) -> bool:
    return any(len(a.pending_events) != marks.get(k, 0) for k, a in touched.items())
