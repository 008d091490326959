"""What the queries answer: immutable views of a line request's state, built from the
aggregate by one function, and the read-model port."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec

from domain.enums import (
    Billing,
    Channel,
    HealthStatus,
    LineState,
    LineType,
    PaymentStatus,
    RequestSource,
)
from domain.line_request import LineRequest

if TYPE_CHECKING:  # listing's page holds views: imported for annotations only
    from application.listing import LinePage, LineQuery


class WorkKind(Enum):
    """Side effects still owed after a recorded decision (`LineRequestState.owed_work`)."""

    INVOICE = "invoice"
    INVOICE_SEARCH = "invoice_search"
    VOID = "void"
    REFUND = "refund"
    PROVISION = "provision"
    RECONCILE = "reconcile"
    HEALTH_CHECK = "health_check"


class LineView(msgspec.Struct, frozen=True):
    """What reads show of one request. A Struct: built for every request a command answers,
    every row a list shows and every row a rebuild stores, several times faster than a
    frozen dataclass."""

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
    price_amount: int | None = None
    currency: str | None = None
    owed: frozenset[WorkKind] = frozenset()
    usage_date: date | None = None  # today (UTC) when the view was read
    usage_new_conversations: int = 0
    usage_total_messages: int = 0

    @property
    def needs_invoice(self) -> bool:
        return WorkKind.INVOICE in self.owed


_KINDS = {kind.value: kind for kind in WorkKind}


def view_of(req: LineRequest) -> LineView:
    """The one function from a request's folded state to what reads show (and what the
    read model stores)."""
    if req.state is None:  # only between Requested and ProvisioningStarted, never committed
        raise ValueError(f"line request {req.id} has no lifecycle state yet")
    return LineView(
        id=req.id,
        workspace_id=req.workspace_id,
        first_name=req.first_name,
        last_name=req.last_name,
        phone=req.phone,
        email=req.email,
        state=req.state,
        payment_status=req.payment_status,
        billing=req.billing,
        source=req.source,
        channel=req.channel,
        line_type=req.line_type,
        payment_url=req.payment_url,
        invoice_id=req.invoice_id,
        daily_new_conversations_limit=req.daily_new_conversations_limit,
        daily_total_messages_limit=req.daily_total_messages_limit,
        created_at=req.created_on,
        updated_at=req.modified_on,
        version=req.version,
        server_url=req.server_url,
        health_status=req.health_status,
        health_checked_at=req.health_checked_at,
        price_amount=req.price_amount,
        currency=req.currency,
        owed=frozenset(_KINDS[name] for name in req.owed_work),
    )


@dataclass(frozen=True)
class CommittedBatch:
    """What one group commit stored: log positions first..last (`count` of them), and the
    state every request in it reached, with the position of its Requested event when the
    batch created it. `complete`: the batch held nothing but requests and workspaces, so
    the views say all a projection needs to know of those positions."""

    first: int
    last: int
    count: int
    views: tuple[tuple[LineView, int | None], ...]
    complete: bool

    @property
    def contiguous(self) -> bool:
        return self.last - self.first + 1 == self.count


@dataclass(frozen=True)
class WorkItem:
    kind: WorkKind
    request_id: UUID
    workspace_id: str


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int
    set_aside: list[SetAside]


@dataclass(frozen=True)
class SetAside:
    """An event a projection could not apply: its request is set aside until it can."""

    aggregate_id: str
    position: int
    topic: str
    error: str
    attempts: int
    first_failed_at: datetime


class ReadModel(ABC):
    """The projections, as the application sees them."""

    @abstractmethod
    def wait_for(self, position: int | None = None, timeout: float = 5.0) -> bool:
        """Wait until the projections have processed the log up to `position` (None: the
        head now); False if they did not within `timeout`."""

    @abstractmethod
    def caught_up(self) -> bool:
        """Whether the projections hold the log up to its head now (no waiting)."""

    @abstractmethod
    def usage(self, request_id: UUID, day: date) -> tuple[int, int]:
        """(new conversations, total messages) of one line on one UTC day."""

    @abstractmethod
    def get_line(self, workspace_id: str, request_id: UUID) -> LineView | None:
        """One line request of the workspace, or None (also for another workspace's id)."""

    @abstractmethod
    def list_lines(self, workspace_id: str) -> list[LineView]:
        """Every line request of the workspace, newest first."""

    @abstractmethod
    def page_lines(self, workspace_id: str, query: LineQuery) -> LinePage:
        """One page of the workspace's line requests, newest first (see `listing`);
        an unknown `starting_after` raises `InvalidValue`."""

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

    @abstractmethod
    def status(self) -> list[ProjectionStatus]:
        """Each projection's position, the log's head, and what it has set aside."""
