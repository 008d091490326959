"""Health checks asked for by the dashboard (`check-availability`), guarded against floods
(security review, finding 3: 80 concurrent checks of one line starved the request threads,
came back falsely unhealthy and fired notifications):

- single-flight per line: a check asked for while one of the same line is running waits for
  that one's result instead of probing again;
- a short cooldown: a check asked for within `cooldown` seconds of the last one's end gets
  that result;
- probes run on their own bounded thread pool, never on the request thread pool; a caller
  waiting for a result holds no thread at all;
- a per-workspace rate limit on new probes (a token bucket): past it, `RateLimited`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from uuid import UUID

from application.errors import RateLimited
from application.health import CheckResult, HealthChecks

Key = tuple[str, UUID]  # (workspace, line): another workspace never shares a result
Take = Callable[[str], float]  # a token for a workspace: 0, or the seconds until one
MAX_REMEMBERED = 10_000


class HealthGate:
    """The dashboard's way into `HealthChecks.check` (the worker's scheduled checks call it
    directly)."""

    def __init__(
        self,
        checks: HealthChecks,
        cooldown: float,
        take: Take | None,
        workers: int = 8,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        """`take`: the per-workspace rate limit of new probes (None: no limit)."""
        self.checks = checks
        self.cooldown = cooldown
        self.now = now
        self.take = take
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="tuco-health")
        self._lock = threading.Lock()
        self._running: dict[Key, Future[CheckResult]] = {}
        self._recent: dict[Key, tuple[float, CheckResult]] = {}

    def submit(self, request_id: UUID, workspace_id: str) -> Future[CheckResult]:
        """The result of a check of this line: a recent one, the one running, or a new one
        (rate-limited per workspace). Errors (not found, not checkable) come through the
        future and are never remembered."""
        key = (workspace_id, request_id)
        with self._lock:
            recent = self._recent.get(key)
            if recent is not None and self.now() - recent[0] < self.cooldown:
                done: Future[CheckResult] = Future()
                done.set_result(recent[1])
                return done
            running = self._running.get(key)
            if running is not None:
                return running
            wait = self.take(workspace_id) if self.take else 0.0
            if wait > 0:
                raise RateLimited("Too many line checks for this workspace; retry later.", wait)
            future = self.pool.submit(self.checks.check, request_id, workspace_id)
            self._running[key] = future
        future.add_done_callback(lambda f: self._finished(key, f))
        return future

    def _finished(self, key: Key, future: Future[CheckResult]) -> None:
        with self._lock:
            self._running.pop(key, None)
            if future.cancelled() or future.exception() is not None:
                return
            if self.cooldown > 0:
                self._recent[key] = (self.now(), future.result())
                if len(self._recent) > MAX_REMEMBERED:
                    cutoff = self.now() - self.cooldown
                    self._recent = {k: v for k, v in self._recent.items() if v[0] >= cutoff}

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
