"""The projections follow the log off the request path: a thread per process applies new
events in batches (rows and position in one transaction), woken by local commits and polling
for other processes' writes. Readers that need a position wait for it here."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from application.errors import ServiceBusy
from application.views import CommittedBatch
from projections.runner import Projection, ProjectionRunner

log = logging.getLogger(__name__)


class Follower:
    """Supervised: a failing pass is logged and retried with backoff; the thread never dies
    of it."""

    def __init__(
        self,
        runner: ProjectionRunner,
        parts: Sequence[Projection],
        poll: float = 0.05,
        retry_every: float = 1.0,
        gap: float = 0.005,
    ) -> None:
        self.runner = runner
        self.parts = list(parts)
        self.poll = poll
        self.retry_every = retry_every
        # At least this long between passes under load, so one pass (one transaction and
        # one write lock on SQLite) carries many commits instead of contending with each.
        self.gap = gap
        self.reached = 0
        self._wake = threading.Event()
        self._progress = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_retry = 0.0
        # Since when passes have failed in a row (None: the last pass worked), and why.
        self.failing_since: float | None = None
        self.last_error = ""

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tuco-follower", daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    stall_seconds = 10.0  # failing passes for this long count as stalled (/readyz)
    stalled_wait = 0.25  # how long a reader waits on a failing projection
    far_behind = 10_000  # events behind the head: catching up, not following (/readyz)

    def stalled(self, after: float | None = None) -> str | None:
        """Why the projections are stalled (passes failing for `after` seconds or more, or
        the thread gone), or None."""
        after = self.stall_seconds if after is None else after
        if self._thread is not None and not self._thread.is_alive():
            return "the projection thread has stopped"
        since = self.failing_since
        if since is not None and time.monotonic() - since >= after:
            return f"failing for {time.monotonic() - since:.0f} s: {self.last_error}"
        return None

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def notify(self, batch: CommittedBatch) -> None:
        """A local commit: hand it to the projections and apply it soon."""
        if self.runner.handoffs is not None:
            self.runner.handoffs.put(batch)
        self._wake.set()

    def pass_once(self) -> int:
        """One pass: everything up to the head, then the set-aside items that are due."""
        reached = self.runner.catch_up()
        now = time.monotonic()
        if now - self._last_retry >= self.retry_every:
            self._last_retry = now
            self.runner.retry_set_aside(self.parts)
        self._advanced(reached)
        return reached

    def wait_for(self, position: int, timeout: float) -> bool:
        started = time.monotonic()
        deadline = started + timeout
        while self.reached < position:
            if self.failing_since is not None:
                # Stalled (a full disk, a poison batch): a quick retry, then the reader answers
                # from what the read model has instead of hanging on a projection that may
                # not come back for a while.
                deadline = min(deadline, started + self.stalled_wait)
            if not self.running:  # no thread here (a CLI, a test): catch up in this one
                self._advanced(self.runner.catch_up(position))
                if self.reached >= position or time.monotonic() > deadline:
                    return self.reached >= position
                time.sleep(0.01)  # another process holds the projection: let it finish
            else:
                self._wake.set()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                with self._progress:
                    self._progress.wait(min(left, 0.01))
            if self.reached < position:  # another process may be the one applying
                self._advanced(self.runner.position())
        return True

    def _advanced(self, reached: int) -> None:
        with self._progress:
            if reached > self.reached:
                self.reached = reached
                self._progress.notify_all()

    def _failed(self, error: BaseException) -> None:
        self.last_error = repr(error)[:300]
        if self.failing_since is None:
            self.failing_since = time.monotonic()

    def _run(self) -> None:
        delay = self.poll
        while not self._stop.is_set():
            try:
                self.pass_once()
                delay = self.poll
                self.failing_since = None
                self._stop.wait(self.gap)
            except (SQLAlchemyError, OSError, ServiceBusy) as e:
                self._failed(e)
                log.warning("projections stalled (retry in %.2fs): %r", delay, e)
                delay = min(delay * 2, 5.0)
            except Exception as e:  # supervised loop: log, back off, go on
                self._failed(e)
                log.exception("projection pass failed (retry in %.2fs)", delay)
                delay = min(delay * 2, 5.0)
            self._wake.wait(delay)
            self._wake.clear()
