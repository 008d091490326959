"""What a line request's state implies: derived flags, no events."""

from __future__ import annotations

from datetime import datetime

from domain.enums import SLOT_HOLDING_STATES, HealthStatus, LineState, PaymentStatus


class LineRequestState:
    """Mixed into the LineRequest aggregate; reads the attributes its events set."""

    state: LineState | None
    payment_status: PaymentStatus
    invoice_id: str | None
    invoice_voided: bool
    server_url: str | None
    health_status: HealthStatus | None
    health_checked_at: datetime | None

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
            "void": self.needs_void,
            "refund": self.refund_due,
            "provision": self.state is LineState.PROVISIONING,
            "reconcile": self.state is LineState.AWAITING_PAYMENT and self.invoice_id is not None,
            "health_check": self.state is LineState.ACTIVE and bool(self.server_url),
        }
        return frozenset(name for name, due in owed.items() if due)

    @property
    def last_health(self) -> HealthStatus:
        """A line never checked counts as healthy before its first check."""
        return self.health_status or HealthStatus.HEALTHY
