"""Ports: the small abstract interfaces the application needs from the outside world.
Each has one real adapter and one sandbox or fake in `adapters/` and the tests."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from uuid import UUID

from domain.enums import Channel, LineType


class Clock(ABC):
    """Where the application reads the time (UTC), so tests can move it."""

    @abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class ExternalServiceUnavailable(Exception):
    """An external service could not be reached or answered with an error; the step
    stays pending and the worker retries it."""


class BillingUnavailable(ExternalServiceUnavailable):
    pass


class ProvisionerUnavailable(ExternalServiceUnavailable):
    pass


class InvoiceNotFound(Exception):
    def __init__(self, invoice_id: str) -> None:
        super().__init__(f"No invoice {invoice_id} was found.")


class InvoiceStatus(Enum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


@dataclass(frozen=True)
class InvoiceOrder:
    request_id: UUID
    workspace_id: str
    channel: Channel
    amount: int
    currency: str
    description: str
    # When the request was made: no invoice of it can be older, which bounds the search
    # for one created before (None: search the customer's whole history).
    requested_at: datetime | None = None


@dataclass(frozen=True)
class Invoice:
    """An invoice as the provider reports it. `request_id` is what its metadata names, which
    whoever created the invoice chose; `billed_workspace` is the workspace whose billing
    customer it is billed to (None: a customer this service does not know)."""

    id: str
    url: str
    status: InvoiceStatus
    amount_due: int
    amount_paid: int
    request_id: UUID | None
    billed_workspace: str | None = None
    currency: str | None = None
    for_subscription: bool = False


class Billing(ABC):
    """The billing provider (Stripe, or the sandbox). Every call that creates or changes
    something is idempotent per line request, so a retried step never bills twice."""

    @abstractmethod
    def create_invoice(self, order: InvoiceOrder) -> Invoice:
        """Create (or return the already created) open invoice for one add-on request."""

    @abstractmethod
    def find_invoice(
        self, request_id: UUID, workspace_id: str, since: datetime | None
    ) -> Invoice | None:
        """The invoice created for this request (its metadata names it), if any exists,
        created no earlier than `since`; a paid one first. For an invoice whose creation
        was never recorded (the process died between the two)."""

    @abstractmethod
    def get_invoice(self, invoice_id: str) -> Invoice:
        """Re-read an invoice; raises InvoiceNotFound for an unknown id."""

    @abstractmethod
    def void_invoice(self, invoice_id: str) -> Invoice:
        """Void an open invoice (a draft is deleted and reported void); voiding a void
        invoice is a no-op."""

    @abstractmethod
    def refund(self, invoice_id: str, request_id: UUID) -> str:
        """Refund the payment of a paid invoice; returns the refund id (same id on retry)."""


@dataclass(frozen=True)
class ProvisioningOrder:
    request_id: UUID
    workspace_id: str
    channel: Channel
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    started_at: datetime
    line_type: LineType = LineType.PURCHASED


class ProvisioningState(Enum):
    PENDING = "pending"
    ACTIVE = "active"
    FAILED = "failed"


@dataclass(frozen=True)
class ProvisioningOutcome:
    state: ProvisioningState
    phone: str | None = None
    email: str | None = None
    provider_ref: str | None = None
    server_url: str | None = None
    reason: str | None = None


class Provisioner(ABC):
    """The system that actually sets a line up (a carrier, a mail host). Adapters: the
    sandbox (activates by itself), manual (an operator answers with `tuco lines`), and http
    (a provisioning service: signed orders out, signed callbacks in, polling)."""

    @abstractmethod
    def provision(self, order: ProvisioningOrder) -> ProvisioningOutcome:
        """Start or continue provisioning one line, idempotent per request id; called by
        the worker on every sweep until the request leaves provisioning. PENDING: nothing
        known yet (an answer may also arrive another way, such as a callback). Raises
        ProvisionerUnavailable when the provider cannot be reached (retried with backoff)."""


@dataclass(frozen=True)
class SubscriptionInfo:
    """A base-plan subscription as the billing provider reports it now."""

    subscription_id: str
    workspace_id: str | None
    plan: str | None
    active: bool
    created: int = 0  # Unix seconds at the provider: the newer of two subscriptions wins


class Subscriptions(ABC):
    """Where base-plan subscriptions are read (Stripe)."""

    @abstractmethod
    def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        """Re-read a subscription and the workspace its customer belongs to."""


class LogTail(ABC):
    """The event log's newest entries, read cheaply: which aggregates changed since a
    position (any process may have written them)."""

    @abstractmethod
    def head(self) -> int:
        """The position of the last event recorded (0: none)."""

    @abstractmethod
    def since(self, position: int, limit: int) -> list[tuple[int, UUID, int]]:
        """Up to `limit` (position, aggregate id, version) after `position`, in log order."""
