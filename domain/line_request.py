"""The LineRequest aggregate: one request for a line, from request to a terminal state."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import bounds
from domain.enums import (
    Billing,
    Channel,
    HealthStatus,
    LineState,
    LineType,
    PaymentStatus,
    RequestSource,
)
from domain.errors import (
    InvalidLimits,
    InvalidTransition,
    LineNotCheckable,
    MissingLineDetails,
)
from domain.line_state import LineRequestState


class LineRequest(LineRequestState, Aggregate):
    """Each public method checks its rule and raises a specific error before the private
    `@event` method records the past-tense event; replay runs only the mutation."""

    @event("Requested")
    def __init__(
        self,
        id: UUID,
        workspace_id: str,
        channel: Channel,
        line_type: LineType,
        first_name: str,
        last_name: str,
        email: str | None,
        phone: str | None,
        billing: Billing,
        price_amount: int | None,
        currency: str | None,
        source: RequestSource,
        idempotency_key: str | None,
        fingerprint: str,
        daily_new_conversations_limit: int,
        daily_total_messages_limit: int,
    ):
        self.workspace_id = workspace_id
        self.channel = channel
        self.line_type = line_type
        self.first_name = first_name
        self.last_name = last_name
        self.email = email
        self.phone = phone
        self.billing = billing
        self.price_amount = price_amount
        self.currency = currency
        self.source = source
        self.idempotency_key = idempotency_key
        self.fingerprint = fingerprint
        self.daily_new_conversations_limit = daily_new_conversations_limit
        self.daily_total_messages_limit = daily_total_messages_limit
        # An included request has no lifecycle state until ProvisioningStarted, which is
        # always saved in the same transaction.
        self.state: LineState | None = (
            LineState.AWAITING_PAYMENT if billing is Billing.ADDON else None
        )
        self.payment_status = (
            PaymentStatus.PENDING if billing is Billing.ADDON else PaymentStatus.NOT_REQUIRED
        )
        self.invoice_id: str | None = None
        self.payment_url: str | None = None
        self.invoice_voided = False
        self.amount_paid: int | None = None
        self.refund_id: str | None = None
        self.provisioning_started_at: datetime | None = None
        self.provider_ref: str | None = None
        self.server_url: str | None = None
        self.health_status: HealthStatus | None = None
        self.health_checked_at: datetime | None = None
        self.failure_reason: str | None = None
        self.canceled_by: str | None = None
        self.invoice_searched = False
        self.late_answers: list[str] = []
        # Payments of invoices that are not this request's (finding 1 of the security
        # review): invoice id → amount while owed back, → refund id once refunded.
        self.stray_payments: dict[str, int] = {}
        self.stray_refunds: dict[str, str] = {}

    def _refuse(self, action: str) -> InvalidTransition:
        return InvalidTransition(action, self.state_name)

    # --- invoice -------------------------------------------------------------------------

    def record_invoice(self, invoice_id: str, url: str) -> bool:
        """Record the invoice created for this request; False if it is already recorded.
        A canceled request still records it, so that the invoice can be voided."""
        if self.invoice_id == invoice_id:
            return False
        if self.invoice_id is not None or self.state not in (
            LineState.AWAITING_PAYMENT,
            LineState.CANCELED,
        ):
            raise self._refuse("record an invoice for")
        self._invoiced(invoice_id=invoice_id, url=url)
        return True

    @event("Invoiced")
    def _invoiced(self, invoice_id: str, url: str) -> None:
        self.invoice_id = invoice_id
        self.payment_url = url

    def record_void(self, invoice_id: str) -> None:
        if not self.needs_void or invoice_id != self.invoice_id:
            raise self._refuse("void the invoice of")
        self._invoice_voided(invoice_id=invoice_id)

    @event("InvoiceVoided")
    def _invoice_voided(self, invoice_id: str) -> None:
        self.invoice_voided = True

    def record_invoice_search(self) -> None:
        """The provider holds no invoice for this canceled request: stop searching."""
        if not self.needs_invoice_search:
            raise self._refuse("record an invoice search for")
        self._invoice_searched()

    @event("InvoiceSearched")
    def _invoice_searched(self) -> None:
        self.invoice_searched = True

    # --- payment -------------------------------------------------------------------------

    def record_payment(self, invoice_id: str, amount: int, at: datetime) -> bool:
        """Record a payment reported by the billing provider. Awaiting payment: the request
        moves on to provisioning. Canceled: the payment is recorded so it gets refunded.
        False when this payment is already recorded (duplicate or late delivery)."""
        if self.payment_status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
            return False
        if self.state not in (LineState.AWAITING_PAYMENT, LineState.CANCELED):
            raise self._refuse("record a payment for")
        self._paid(invoice_id=invoice_id, amount=amount)
        if self.state is LineState.AWAITING_PAYMENT:
            self._provisioning_started(at=at)
        return True

    @event("Paid")
    def _paid(self, invoice_id: str, amount: int) -> None:
        self.invoice_id = invoice_id
        self.amount_paid = amount
        self.payment_status = PaymentStatus.PAID

    def record_refund(self, refund_id: str, amount: int) -> None:
        if not self.refund_due:
            raise self._refuse("refund")
        self._refunded(refund_id=refund_id, amount=amount)

    @event("Refunded")
    def _refunded(self, refund_id: str, amount: int) -> None:
        self.refund_id = refund_id
        self.payment_status = PaymentStatus.REFUNDED

    def record_stray_payment(self, invoice_id: str, amount: int) -> bool:
        """A paid invoice names this request but does not settle it (another customer's,
        another invoice than the recorded one, less than the price): it is recorded so that
        it gets refunded (SPEC §6, invariant 6). False when already recorded."""
        if invoice_id in self.stray_payments or invoice_id in self.stray_refunds:
            return False
        self._stray_payment_received(invoice_id=invoice_id, amount=amount)
        return True

    @event("StrayPaymentReceived")
    def _stray_payment_received(self, invoice_id: str, amount: int) -> None:
        self.stray_payments[invoice_id] = amount

    def record_stray_refund(self, invoice_id: str, refund_id: str) -> None:
        if invoice_id not in self.stray_payments:
            raise self._refuse(f"refund invoice {invoice_id} of")
        self._stray_payment_refunded(invoice_id=invoice_id, refund_id=refund_id)

    @event("StrayPaymentRefunded")
    def _stray_payment_refunded(self, invoice_id: str, refund_id: str) -> None:
        del self.stray_payments[invoice_id]
        self.stray_refunds[invoice_id] = refund_id

    # --- lifecycle -----------------------------------------------------------------------

    def start_provisioning(self, at: datetime) -> None:
        """Only for an included request, in the same save as Requested; a paid add-on
        starts provisioning inside record_payment."""
        if self.state is not None or self.billing is not Billing.INCLUDED:
            raise self._refuse("start provisioning")
        self._provisioning_started(at=at)

    @event("ProvisioningStarted")
    def _provisioning_started(self, at: datetime) -> None:
        self.state = LineState.PROVISIONING
        self.provisioning_started_at = at

    class Activated(Aggregate.Event):
        """Version 2 added `server_url`, where the line's health is probed. Version 1 events
        (stored before it existed) are upcast with no server URL."""

        class_version = 2
        phone: str | None
        email: str | None
        provider_ref: str
        server_url: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["server_url"] = None

    def activate(
        self,
        phone: str | None,
        email: str | None,
        provider_ref: str,
        server_url: str | None = None,
    ) -> None:
        if self.state is not LineState.PROVISIONING:
            raise self._refuse("activate")
        phone = bounds.phone("phone", phone)
        email = bounds.email("email", email)
        provider_ref = bounds.text("providerRef", provider_ref, max_len=200, required=False) or ""
        if server_url is not None:
            server_url = bounds.http_url("serverUrl", server_url)
        if self.channel is Channel.PHONE and (phone or self.phone) is None:
            raise MissingLineDetails("phone", "A phone line needs its assigned phone number.")
        self._activated(phone=phone, email=email, provider_ref=provider_ref, server_url=server_url)

    @event(Activated)
    def _activated(
        self, phone: str | None, email: str | None, provider_ref: str, server_url: str | None
    ) -> None:
        self.state = LineState.ACTIVE
        self.phone = phone or self.phone
        self.email = email or self.email
        self.provider_ref = provider_ref
        # An operator may have configured the server before activation: keep it.
        self.server_url = server_url or self.server_url

    def fail(self, reason: str) -> None:
        if self.state is not LineState.PROVISIONING:
            raise self._refuse("fail")
        reason = bounds.text("reason", reason, max_len=500) or ""
        self._provisioning_failed(reason=reason)

    @event("ProvisioningFailed")
    def _provisioning_failed(self, reason: str) -> None:
        self.state = LineState.FAILED
        self.failure_reason = reason

    def record_late_answer(self, status: str, provider_ref: str | None) -> bool:
        """The provisioner answered after the deadline failed the request: kept (once per
        status), changing nothing else. False when this answer is already kept."""
        if not self.timed_out:
            raise self._refuse("record a late provisioning answer for")
        status = bounds.text("status", status, max_len=32) or ""
        if status in self.late_answers:
            return False
        ref = bounds.text("providerRef", provider_ref, max_len=200, required=False)
        self._answered_late(status=status, provider_ref=ref)
        return True

    @event("ProvisioningAnsweredLate")
    def _answered_late(self, status: str, provider_ref: str | None) -> None:
        self.late_answers = [*self.late_answers, status]

    def cancel(self, by: str, reason: str) -> None:
        if self.state is not LineState.AWAITING_PAYMENT:
            raise self._refuse("cancel")
        self._canceled(by=by, reason=reason)

    @event("Canceled")
    def _canceled(self, by: str, reason: str) -> None:
        self.state = LineState.CANCELED
        self.canceled_by = by
        self.payment_status = PaymentStatus.VOID

    # --- an active line ------------------------------------------------------------------

    def configure_server(self, server_url: str) -> None:
        """Where the line's health is probed (set by the provisioner or an operator)."""
        if self.state in (LineState.FAILED, LineState.CANCELED):
            raise self._refuse("configure the server of")
        server_url = bounds.http_url("serverUrl", server_url)
        self._server_configured(server_url=server_url)

    @event("ServerConfigured")
    def _server_configured(self, server_url: str) -> None:
        self.server_url = server_url

    def check_checkable(self) -> None:
        if self.state is not LineState.ACTIVE:
            raise LineNotCheckable(self.id, f"it is {self.state_name}, not active")
        if not self.server_url:
            raise LineNotCheckable(self.id, "it has no server URL configured")

    def record_health(self, status: HealthStatus, failures: list[str], at: datetime) -> None:
        self.check_checkable()
        self._health_checked(status=status, failures=failures, checked_at=at)

    @event("HealthChecked")
    def _health_checked(
        self, status: HealthStatus, failures: list[str], checked_at: datetime
    ) -> None:
        self.health_status = status
        self.health_checked_at = checked_at

    class LimitsChanged(Aggregate.Event):
        """Version 2: both limits are within `bounds.MAX_COUNT`. Version 1 events were
        recorded before that was checked; one out of range is read as the nearest bound."""

        class_version = 2
        daily_new_conversations_limit: int
        daily_total_messages_limit: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            for name in ("daily_new_conversations_limit", "daily_total_messages_limit"):
                state[name] = bounds.clamp_count(state.get(name))

    def change_limits(self, new_conversations: int | None, total_messages: int | None) -> None:
        if new_conversations is not None:
            bounds.count("newConversations", new_conversations, error=InvalidLimits)
        if total_messages is not None:
            bounds.count("totalMessages", total_messages, error=InvalidLimits)
        self._limits_changed(
            daily_new_conversations_limit=(
                self.daily_new_conversations_limit
                if new_conversations is None
                else new_conversations
            ),
            daily_total_messages_limit=(
                self.daily_total_messages_limit if total_messages is None else total_messages
            ),
        )

    @event(LimitsChanged)
    def _limits_changed(
        self, daily_new_conversations_limit: int, daily_total_messages_limit: int
    ) -> None:
        self.daily_new_conversations_limit = daily_new_conversations_limit
        self.daily_total_messages_limit = daily_total_messages_limit
