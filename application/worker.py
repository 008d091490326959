"""The background worker: finishes side effects that did not complete inline."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from uuid import UUID

from application.errors import ServiceBusy
from application.ports import Clock, ExternalServiceUnavailable
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
        clock: Clock,
        reconcile_every: float = 60.0,
        batch: int = 200,
    ) -> None:
        self.read_model = read_model
        self.reconcile_every = reconcile_every
        self.batch = batch
        self.clock = clock
        self._last_reconcile = float("-inf")
        self._wake = threading.Event()
        self.steps: dict[WorkKind, Callable[[UUID], None]] = {
            WorkKind.INVOICE: settlement.issue_invoice,
            WorkKind.VOID: settlement.void,
            WorkKind.REFUND: settlement.refund,
            WorkKind.PROVISION: provisioning.advance,
            WorkKind.RECONCILE: settlement.reconcile,
        }

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> int:
        """Returns how many steps completed."""
        self.read_model.catch_up()
        reconcile = time.monotonic() - self._last_reconcile >= self.reconcile_every
        if reconcile:
            self._last_reconcile = time.monotonic()
        done = 0
        for item in self.read_model.pending_work(self.batch, include_reconcile=reconcile):
            try:
                self.steps[item.kind](item.request_id)
            except (ExternalServiceUnavailable, ServiceBusy, DomainError) as e:
                log.warning("%s step for %s not done: %s", item.kind.value, item.request_id, e)
                continue
            done += 1
        return done

    def run_forever(
        self, stop: threading.Event, interval: float, is_leader: Callable[[], bool]
    ) -> None:
        """Sweep every `interval` seconds (sooner when woken) while this process leads."""
        while not stop.is_set():
            try:
                if is_leader():
                    self.run_once()
            except (ServiceBusy, ExternalServiceUnavailable) as e:
                log.warning("worker sweep skipped: %s", e)
            self._wake.wait(interval)
            self._wake.clear()
