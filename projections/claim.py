"""One catch-up from far behind at a time: in a process, one thread; across processes, the
holder of a lease. N server processes started on a fresh read model over a big log then
fold the log once, not N times over (each with its fold workers, racing for the same
ranges); the others leave the catch-up to the holder and follow once it is done."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from application.errors import ServiceBusy

log = logging.getLogger(__name__)


class Lease(Protocol):
    def try_acquire(self) -> bool:
        """Take or renew; False while another holder has it; raises when it cannot say."""
        ...

    def release(self) -> None: ...


class Turn:
    """A catch-up's turn: `ours` when this caller may advance the projection."""

    def __init__(self, lease: Lease | None, ours: bool) -> None:
        self.lease = lease
        self.ours = ours

    def still_ours(self) -> bool:
        """Renewed (a round trip only every third of the lease's time); False once another
        process took it over (this one stalled for longer than the lease)."""
        return self.lease is None or self.lease.try_acquire()


class CatchUpClaim:
    """Taken when a catch-up has at least `from_events` to go."""

    refusal_memory = 1.0  # seconds a refusal is remembered: no write per follower pass

    def __init__(self, lease: Lease, from_events: int = 50_000) -> None:
        self.lease = lease
        self.from_events = from_events
        self._here = threading.Lock()
        self._refused_until = 0.0

    @contextlib.contextmanager
    def turn(self, start: int, goal: int) -> Iterator[Turn]:
        if goal - start < self.from_events:
            yield Turn(None, True)  # following, not catching up: nothing to claim
            return
        if not self._here.acquire(blocking=False):
            yield Turn(None, False)  # another thread of this process is on it
            return
        try:
            got = self._acquire()
            try:
                yield Turn(self.lease if got else None, got)
            finally:
                if got:
                    self._release()
        finally:
            self._here.release()

    def _acquire(self) -> bool:
        now = time.monotonic()
        if now < self._refused_until:
            return False
        got = self.lease.try_acquire()  # a database failure raises: the pass fails visibly
        if not got:
            self._refused_until = now + self.refusal_memory
        return got

    def _release(self) -> None:
        try:
            self.lease.release()
        except (ServiceBusy, SQLAlchemyError) as exc:  # it expires by itself
            log.warning("projection catch-up: the claim was not released: %s", exc)
