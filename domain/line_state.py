"""What a line request's state implies: derived flags, no events."""

from __future__ import annotations

from datetime import datetime

from domain.enums import SLOT_HOLDING_STATES, Billing, HealthStatus, LineState, PaymentStatus

# The failure reason of a request that stayed in provisioning past its deadline.
PROVISIONING_TIMEOUT = "provisioning_timeout"


class LineRequestState:
    """Mixed into the LineRequest aggregate; reads the attributes its events set."""

    state: LineState | None
    billing: Billing
    payment_status: PaymentStatus
    invoice_id: str | None
    invoice_voided: bool
    failure_reason: str | None
    provisioning_started_at: datetime | None
    invoice_searched: bool
    late_answers: list[str]
    server_url: str | None
    health_status: HealthStatus | None
    health_checked_at: datetime | None
    stray_payments: dict[str, int]

    @property
    def state_name(self) -> str:
        return self.state.value if self.state else "requested"

    @property
    def holds_slot(self) -> bool:
        return self.state in SLOT_HOLDING_STATES

    @property
    def needs_invoice(self) -> bool:
        return self.state is LineState.AWAITING_PAYMENT and self.invoice_id is None

    @property
    def needs_void(self) -> bool:
        return (
            self.state is LineState.CANCELED
            and self.invoice_id is not None
            and not self.invoice_voided
            and self.payment_status is PaymentStatus.VOID
        )

    @property
    def needs_invoice_search(self) -> bool:
        """Canceled before an invoice id was recorded: an invoice may still exist at the
        provider (created, then the process died before recording it), to be found and
        voided, or refunded if it was paid."""
        return (
            self.state is LineState.CANCELED
            and self.billing is Billing.ADDON
            and self.invoice_id is None
            and not self.invoice_searched
        )

    @property
    def timed_out(self) -> bool:
        """Failed because provisioning did not finish before its deadline."""
        return self.state is LineState.FAILED and self.failure_reason == PROVISIONING_TIMEOUT

    def overdue(self, now: datetime, deadline_seconds: float) -> bool:
        """In provisioning for longer than `deadline_seconds` (0 or less: no deadline)."""
        if self.state is not LineState.PROVISIONING or self.provisioning_started_at is None:
            return False
        age = (now - self.provisioning_started_at).total_seconds()
        return deadline_seconds > 0 and age > deadline_seconds

    @property
    def refund_due(self) -> bool:
        return self.payment_status is PaymentStatus.PAID and self.state in (
            LineState.FAILED,
            LineState.CANCELED,
        )

    @property
    def owed_work(self) -> frozenset[str]:
        """The side effects this state still owes, by name (stored as read-model columns
        so the worker finds them without restating these rules)."""
        owed = {
            "invoice": self.needs_invoice,
            "invoice_search": self.needs_invoice_search,
            "void": self.needs_void,
            "refund": self.refund_due or bool(self.stray_payments),
            "provision": self.state is LineState.PROVISIONING,
            "reconcile": self.state is LineState.AWAITING_PAYMENT and self.invoice_id is not None,
            "health_check": self.state is LineState.ACTIVE and bool(self.server_url),
        }
        return frozenset(name for name, due in owed.items() if due)

    @property
    def last_health(self) -> HealthStatus:
        """A line never checked counts as healthy before its first check."""
        return self.health_status or HealthStatus.HEALTHY
