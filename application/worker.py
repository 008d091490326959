"""The background worker: finishes side effects that did not complete inline."""

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


class Worker:
    """One `run_once` is one sweep: catch the read model up, then run every owed step.
    Steps are idempotent per request, so a sweep that overlaps another does no harm."""

    def __init__(
        self,
        read_model: ReadModel,
        settlement: Settlement,
        provisioning: Provisioning,
        health: HealthChecks | None = None,
        reconcile_every: float = 60.0,
        health_every: float | None = None,
        batch: int = 200,
    ) -> None:
        self.read_model = read_model
        self.batch = batch
        # Sweeps that run every so often rather than on every pass (0 = every pass,
        # None = never).
        self.every = {WorkKind.RECONCILE: reconcile_every, WorkKind.HEALTH_CHECK: health_every}
        self._last: dict[WorkKind, float] = {}
        self._wake = threading.Event()
        self.steps: dict[WorkKind, Callable[[UUID], object]] = {
            WorkKind.INVOICE: settlement.issue_invoice,
            WorkKind.VOID: settlement.void,
            WorkKind.REFUND: settlement.refund,
            WorkKind.PROVISION: provisioning.advance,
            WorkKind.RECONCILE: settlement.reconcile,
        }
        if health is not None:
            self.steps[WorkKind.HEALTH_CHECK] = health.check

    def wake(self) -> None:
        self._wake.set()

    def run_once(self, renew: Callable[[], bool] | None = None) -> int:
        """Returns how many steps completed. `renew` (the leader lease) is renewed between
        steps; the sweep stops if it is lost."""
        self.read_model.catch_up()
        done = 0
        for item in self.read_model.pending_work(self.batch, self._due_sweeps()):
            if renew is not None and not renew():
                break
            try:
                self.steps[item.kind](item.request_id)
            except (ExternalServiceUnavailable, ServiceBusy, DomainError, InvoiceNotFound) as e:
                log.warning("%s step for %s not done: %s", item.kind.value, item.request_id, e)
                continue
            done += 1
        return done

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
            try:
                if is_leader():
                    self.run_once(renew=is_leader)
            except (ServiceBusy, ExternalServiceUnavailable) as e:
                log.warning("worker sweep skipped: %s", e)
            self._wake.wait(interval)
            self._wake.clear()
