"""What the queries answer: typed rows of the read models, and the read-model port."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from uuid import UUID

from domain.enums import (
    Billing,
    Channel,
    HealthStatus,
    LineState,
    LineType,
    PaymentStatus,
    RequestSource,
)


@dataclass(frozen=True)
class LineView:
    id: UUID
    workspace_id: str
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    state: LineState
    payment_status: PaymentStatus
    billing: Billing
    source: RequestSource
    channel: Channel
    line_type: LineType
    payment_url: str | None
    invoice_id: str | None
    daily_new_conversations_limit: int
    daily_total_messages_limit: int
    created_at: datetime
    updated_at: datetime
    version: int
    server_url: str | None = None
    health_status: HealthStatus | None = None
    health_checked_at: datetime | None = None
    usage_date: date | None = None  # today (UTC) when the view was read
    usage_new_conversations: int = 0
    usage_total_messages: int = 0


class WorkKind(Enum):
    """Side effects still owed after a recorded decision."""

    INVOICE = "invoice"
    VOID = "void"
    REFUND = "refund"
    PROVISION = "provision"
    RECONCILE = "reconcile"
    HEALTH_CHECK = "health_check"


@dataclass(frozen=True)
class WorkItem:
    kind: WorkKind
    request_id: UUID
    workspace_id: str


class ReadModel(ABC):
    """The projections, as the application sees them."""

    @abstractmethod
    def catch_up(self, position: int | None = None) -> int:
        """Process the log at least up to `position` (None: the head); returns the position
        reached. After it returns, queries on any process see that write."""

    @abstractmethod
    def get_line(self, workspace_id: str, request_id: UUID) -> LineView | None:
        """One line request of the workspace, or None (also for another workspace's id)."""

    @abstractmethod
    def list_lines(self, workspace_id: str) -> list[LineView]:
        """Every line request of the workspace, newest first."""

    @abstractmethod
    def find_line(self, request_id: UUID) -> LineView | None:
        """A line request of any workspace (internal callers only)."""

    @abstractmethod
    def iter_lines(self, batch: int = 1000) -> Iterator[LineView]:
        """Every row of every workspace, in id order (for audits)."""

    @abstractmethod
    def pending_work(self, limit: int, periodic: set[WorkKind] | None = None) -> list[WorkItem]:
        """Requests whose side effects have not completed yet, oldest first; `periodic`
        adds the sweeps that are due (reconciliation, scheduled health checks)."""
