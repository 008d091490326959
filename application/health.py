"""Health checks of active lines: probe, record, notify on a change of status."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.app import LinesApp
from application.ports import Clock
from domain.enums import Channel, HealthStatus
from domain.line_request import LineRequest
from domain.workspace import Workspace


@dataclass(frozen=True)
class ProbeResult:
    status: HealthStatus
    failures: list[str]


class HealthProbe(ABC):
    """Asks a line's server whether the line works."""

    @abstractmethod
    def probe(self, server_url: str, channel: Channel) -> ProbeResult:
        """`GET {url}/health` (200 = up) and, for phone lines, `GET {url}/imessage/status`;
        never raises for an unreachable server: that is an unhealthy result."""


@dataclass(frozen=True)
class HealthNotice:
    line_id: UUID
    workspace_id: str
    status: HealthStatus
    previous: HealthStatus
    failures: list[str]
    checked_at: datetime


class Notifier(ABC):
    """Tells someone that a line's health changed."""

    @abstractmethod
    def notify(self, notice: HealthNotice) -> bool:
        """True when the notice was delivered."""


@dataclass(frozen=True)
class CheckResult:
    line_id: UUID
    status: HealthStatus
    failures: list[str]
    checked_at: datetime
    should_notify: bool
    notification_sent: bool


class HealthChecks:
    def __init__(self, app: LinesApp, probe: HealthProbe, notifier: Notifier, clock: Clock):
        self.app = app
        self.probe = probe
        self.notifier = notifier
        self.clock = clock

    def check(self, request_id: UUID, workspace_id: str | None = None) -> CheckResult:
        """Probe the line now, record a HealthChecked event, and notify when the status
        differs from the previous check (never checked counts as healthy)."""
        req = self.app.line_request(request_id, workspace_id)
        req.check_checkable()
        result = self.probe.probe(req.server_url or "", req.channel)
        at = self.clock.now()
        previous: list[HealthStatus] = []

        def decide(r: LineRequest, ws: Workspace) -> list[Aggregate]:
            previous[:] = [r.last_health]
            r.record_health(result.status, result.failures, at)
            return [r]

        view = self.app.change_request(request_id, decide, workspace_id)
        should_notify = result.status is not previous[0]
        sent = should_notify and self.notifier.notify(
            HealthNotice(
                view.id, view.workspace_id, result.status, previous[0], result.failures, at
            )
        )
        return CheckResult(view.id, result.status, result.failures, at, should_notify, sent)
