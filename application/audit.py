"""Audits: a request's history and state at any time, and a full replay of the log
compared with the read model."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from application.app import LinesApp
from application.errors import store_unavailable
from application.views import LineView, ReadModel
from domain.errors import NotFound
from domain.line_request import LineRequest

STATE_FIELDS = (
    "workspace_id", "state", "payment_status", "billing", "channel", "line_type", "source",
    "first_name", "last_name", "email", "phone", "invoice_id", "payment_url", "invoice_voided",
    "amount_paid", "refund_id", "provider_ref", "server_url", "failure_reason", "canceled_by",
    "daily_new_conversations_limit", "daily_total_messages_limit", "health_status",
    "health_checked_at",
)  # fmt: skip
# The read model's fields that must equal the fold of the events.
VIEW_FIELDS = (
    "workspace_id", "state", "payment_status", "billing", "channel", "line_type", "source",
    "first_name", "last_name", "email", "phone", "invoice_id", "payment_url", "version",
    "daily_new_conversations_limit", "daily_total_messages_limit", "server_url",
    "health_status", "health_checked_at", "created_at", "updated_at",
)  # fmt: skip


def plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, UUID)):
        return str(value)
    return value


def state_of(req: LineRequest) -> dict[str, Any]:
    fields = {name: plain(getattr(req, name, None)) for name in STATE_FIELDS}
    return {
        "id": str(req.id),
        "version": req.version,
        **fields,
        "state": req.state_name,
        "created_at": plain(req.created_on),
        "updated_at": plain(req.modified_on),
    }


@dataclass
class Trail:
    events: list[Any]
    state: dict[str, Any] | None  # None: the request did not exist yet at `as_of`


Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


@dataclass
class VerifyReport:
    requests: int = 0
    events: int = 0
    rows: int = 0
    mismatches: list[str] = field(default_factory=list)


class Audit:
    def __init__(self, app: LinesApp, read_model: ReadModel) -> None:
        self.app = app
        self.read_model = read_model

    def trail(self, request_id: UUID, as_of: datetime | None = None) -> Trail:
        events = self.app.history(request_id)
        if not events or type(events[0]).__qualname__ != "LineRequest.Requested":
            raise NotFound("line request", request_id)
        upto = [e for e in events if as_of is None or e.timestamp <= as_of]
        if not upto:
            return Trail(events=[], state=None)
        req: LineRequest = self.app.repository.get(request_id, version=upto[-1].originator_version)
        return Trail(events=upto, state=state_of(req))

    def verify(self, progress: Progress = _no_progress) -> VerifyReport:
        """Replay every request from the log, check its versions are contiguous and that
        its folded state equals its read-model row; rows without a request are reported.
        `progress(phase, done, total)`: "log" (positions read), then "rows" (compared)."""
        report = VerifyReport()
        folded = self._fold_all(report, progress)
        total = len(folded)
        progress("rows", 0, total)
        for view in self.read_model.iter_lines():
            report.rows += 1
            if report.rows % 1000 == 0:
                progress("rows", report.rows, max(total, report.rows))
            req = folded.pop(view.id, None)
            if req is None:
                report.mismatches.append(f"{view.id}: row has no request in the log")
                continue
            report.mismatches += compare(req, view)
        report.mismatches += [f"{rid}: request has no row" for rid in folded]
        progress("rows", report.rows, max(total, report.rows))
        return report

    def _fold_all(self, report: VerifyReport, progress: Progress) -> dict[UUID, LineRequest]:
        histories: dict[UUID, list[Any]] = defaultdict(list)
        for event in self._line_request_events(report, progress):
            histories[event.originator_id].append(event)
        folded: dict[UUID, LineRequest] = {}
        for rid, events in histories.items():
            report.requests += 1
            report.events += len(events)
            versions = [e.originator_version for e in events]
            if versions != list(range(1, len(events) + 1)):
                report.mismatches.append(f"{rid}: versions are not contiguous: {versions}")
            aggregate: Any = None
            try:
                for event in events:
                    aggregate = event.mutate(aggregate)
            except Exception as e:  # noqa: BLE001 (reported, the audit goes on)
                report.mismatches.append(f"{rid}: its events cannot be folded: {e!r}")
                continue
            folded[rid] = aggregate
        return folded

    def _line_request_events(self, report: VerifyReport, progress: Progress) -> Iterator[Any]:
        recorder, mapper, start = self.app.recorder, self.app.mapper, 0
        try:
            head = recorder.max_notification_id() or 0
            progress("log", 0, head)
            while notes := recorder.select_notifications(start, 5000, inclusive_of_start=False):
                for n in notes:
                    if not n.topic.startswith("domain.line_request:LineRequest."):
                        continue
                    try:
                        yield mapper.to_domain_event(n)
                    except Exception as e:  # noqa: BLE001 (reported, the audit goes on)
                        report.mismatches.append(
                            f"{n.originator_id}: event at position {n.id} cannot be read: {e!r}"
                        )
                start = notes[-1].id
                progress("log", start, max(head, start))
        except PersistenceError as e:
            raise store_unavailable(e) from e


def compare(req: LineRequest, view: LineView) -> list[str]:
    expected = state_of(req)
    return [
        f"{req.id}: {name} is {plain(getattr(view, name))!r} in the read model, "
        f"{expected[name]!r} in the log"
        for name in VIEW_FIELDS
        if plain(getattr(view, name)) != expected[name]
    ]
