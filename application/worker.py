"""The background worker: finishes side effects that did not complete inline.

Supervised: an exception in one item is logged with its traceback and that item is retried
later with a growing delay (capped); the other items go on, and the loop never dies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from uuid import UUID

from application.errors import ServiceBusy
from application.health import HealthChecks
from application.ports import ExternalServiceUnavailable, InvoiceNotFound
from application.provisioning import Provisioning
from application.settlement import Settlement
from application.views import ReadModel, WorkKind
from domain.errors import DomainError

log = logging.getLogger(__name__)
EXPECTED = (ExternalServiceUnavailable, ServiceBusy, DomainError, InvoiceNotFound)


class Backoff:
    """When each failing item may be tried again: `base` (1 s), doubling up to `cap`."""

    def __init__(
        self,
        cap: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        base: float = 1.0,
    ) -> None:
        self.cap = cap
        self.base = base
        self.clock = clock
        self._failures: dict[tuple[WorkKind, UUID], tuple[int, float]] = {}

    def due(self, key: tuple[WorkKind, UUID]) -> bool:
        entry = self._failures.get(key)
        return entry is None or self.clock() >= entry[1]

    def failed(self, key: tuple[WorkKind, UUID]) -> float:
        count = self._failures.get(key, (0, 0.0))[0] + 1
        delay = min(self.cap, self.base * 2.0 ** (count - 1))
        self._failures[key] = (count, self.clock() + delay)
        return delay

    def succeeded(self, key: tuple[WorkKind, UUID]) -> None:
        self._failures.pop(key, None)


class Worker:
    """One `run_once` is one sweep: wait for the read model to hold the log, then run every
    owed step. Steps are idempotent per request, so overlapping sweeps do no harm."""

    def __init__(
        self,
        read_model: ReadModel,
        settlement: Settlement,
        provisioning: Provisioning,
        health: HealthChecks | None = None,
        reconcile_every: float = 60.0,
        health_every: float | None = None,
        batch: int = 200,
        retry_base: float = 1.0,
    ) -> None:
        self.read_model = read_model
        self.batch = batch
        self.backoff = Backoff(base=retry_base)
        # Sweeps that run every so often rather than on every pass (0 = every pass,
        # None = never).
        self.every = {WorkKind.RECONCILE: reconcile_every, WorkKind.HEALTH_CHECK: health_every}
        self._last: dict[WorkKind, float] = {}
        self._wake = threading.Event()
        self.alive_at = time.monotonic()
        self.steps: dict[WorkKind, Callable[[UUID], object]] = {
            WorkKind.INVOICE: settlement.issue_invoice,
            WorkKind.INVOICE_SEARCH: settlement.search_invoice,
            WorkKind.VOID: settlement.void,
            WorkKind.REFUND: settlement.refund,
            WorkKind.PROVISION: provisioning.advance,
            WorkKind.RECONCILE: settlement.reconcile,
        }
        if health is not None:
            self.steps[WorkKind.HEALTH_CHECK] = health.check
        # Checked on every pass even while an item backs off (e.g. a provisioner that is
        # down), so a deadline is never missed by more than a pass.
        self.deadlines: dict[WorkKind, Callable[[UUID], object]] = {
            WorkKind.PROVISION: provisioning.expire
        }

    def wake(self) -> None:
        self._wake.set()

    def stuck_for(self) -> float:
        """Seconds since the worker last began a pass or a step (monotonic clock). A worker
        thread that is alive but stuck, in one call that never returns, stops moving it."""
        return time.monotonic() - self.alive_at

    def run_once(self, renew: Callable[[], bool] | None = None) -> int:
        """Returns how many steps completed. `renew` (the leader lease) is renewed between
        steps; the sweep stops if it is lost."""
        self.read_model.wait_for()
        done = 0
        for item in self.read_model.pending_work(self.batch, self._due_sweeps()):
            key = (item.kind, item.request_id)
            due = self.backoff.due(key)
            if not due and item.kind not in self.deadlines:
                continue
            if renew is not None and not renew():
                break
            step = self.steps[item.kind] if due else self.deadlines[item.kind]
            if self._step(key, step, count_failure=due):
                done += 1
        return done

    def _step(
        self, key: tuple[WorkKind, UUID], step: Callable[[UUID], object], count_failure: bool
    ) -> bool:
        kind, request_id = key
        self.alive_at = time.monotonic()  # progress: a step begins (see `stuck_for`)
        try:
            step(request_id)
        except EXPECTED as e:
            delay = self.backoff.failed(key) if count_failure else 0.0
            log.warning("%s step for %s not done (retry in %.0fs): %s", kind.value,
                        request_id, delay, e)  # fmt: skip
            return False
        except Exception:  # supervised: a bug in one item must not stop the others
            delay = self.backoff.failed(key) if count_failure else 0.0
            log.exception("%s step for %s failed (retry in %.0fs)", kind.value, request_id, delay)
            return False
        if count_failure:
            self.backoff.succeeded(key)
        return True

    def _due_sweeps(self) -> set[WorkKind]:
        now = time.monotonic()
        due = {
            kind
            for kind, every in self.every.items()
            if kind in self.steps
            and every is not None
            and now - self._last.get(kind, -1e18) >= every
        }
        self._last.update(dict.fromkeys(due, now))
        return due

    def run_forever(
        self, stop: threading.Event, interval: float, is_leader: Callable[[], bool]
    ) -> None:
        """Sweep every `interval` seconds (sooner when woken) while this process leads."""
        while not stop.is_set():
            self.alive_at = time.monotonic()
            try:
                if is_leader():
                    self.run_once(renew=is_leader)
            except EXPECTED as e:
                log.warning("worker sweep skipped: %s", e)
            except Exception:  # supervised loop: log, wait, sweep again
                log.exception("worker sweep failed; retrying")
            self._wake.wait(interval)
            self._wake.clear()
