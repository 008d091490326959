"""The Workspace aggregate: plan, subscription, overrides, and the capacity decision."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import bounds
from domain.enums import Billing, Channel, Plan
from domain.errors import (
    ChannelNotAvailable,
    InvalidOverride,
    LineLimitReached,
    PaymentPending,
    SubscriptionRequired,
)
from domain.ids import workspace_aggregate_id
from domain.plans import Allowance, Override, allowance


class Workspace(Aggregate):
    """Owns every rule that needs the whole workspace: which requests hold a slot of each
    channel and which one (at most one) is awaiting payment. A line request is admitted,
    paid, canceled or failed together with its workspace, in one atomic save."""

    # The subscription the workspace follows (SubscriptionLinked); class defaults for
    # workspaces (and snapshots) from before it was recorded.
    subscription_id: str | None = None
    subscription_created: int = 0

    @staticmethod
    def create_id(workspace_id: str) -> UUID:
        return workspace_aggregate_id(workspace_id)

    @event("Created")
    def __init__(self, workspace_id: str, name: str, plan: Plan, subscription_active: bool):
        self.workspace_id = workspace_id
        self.name = name
        self.plan = plan
        self.subscription_active = subscription_active
        # Keyed by Channel.value: JSON object keys must be strings in snapshots.
        self.overrides: dict[str, dict[str, int | None]] = {}
        self.held: dict[str, int] = {}
        self.awaiting_payment: UUID | None = None

    # --- queries -------------------------------------------------------------------------

    def allowance(self, channel: Channel) -> Allowance:
        raw = self.overrides.get(channel.value)
        override = Override(raw["included"], raw["max"]) if raw else None
        return allowance(self.plan, channel, override)

    def held_slots(self, channel: Channel) -> int:
        return self.held.get(channel.value, 0)

    def decide_billing(self, channel: Channel) -> Billing:
        """The SPEC §2 decision for a new request, or the specific refusal."""
        if not self.subscription_active:
            raise SubscriptionRequired(self.workspace_id)
        rule = self.allowance(channel)
        if not rule.available:
            raise ChannelNotAvailable(channel.value, self.plan.value)
        if self.awaiting_payment is not None:
            raise PaymentPending(self.awaiting_payment)
        billing = rule.billing_for(self.held_slots(channel))
        if billing is None:
            raise LineLimitReached(channel.value, rule.max or 0)
        return billing

    # --- commands ------------------------------------------------------------------------

    def admit(self, request_id: UUID, channel: Channel) -> Billing:
        billing = self.decide_billing(channel)
        self._admitted(request_id=request_id, channel=channel, billing=billing)
        return billing

    @event("LineAdmitted")
    def _admitted(self, request_id: UUID, channel: Channel, billing: Billing) -> None:
        self.held[channel.value] = self.held_slots(channel) + 1
        if billing is Billing.ADDON:
            self.awaiting_payment = request_id

    def settle_payment(self, request_id: UUID) -> None:
        self._payment_settled(request_id=request_id)

    @event("PaymentSettled")
    def _payment_settled(self, request_id: UUID) -> None:
        if self.awaiting_payment == request_id:
            self.awaiting_payment = None

    def release_slot(self, request_id: UUID, channel: Channel) -> None:
        """A request stopped holding its slot (canceled or failed)."""
        self._slot_released(request_id=request_id, channel=channel)

    @event("SlotReleased")
    def _slot_released(self, request_id: UUID, channel: Channel) -> None:
        self.held[channel.value] = max(0, self.held_slots(channel) - 1)
        if self.awaiting_payment == request_id:
            self.awaiting_payment = None

    @event("PlanChanged")
    def change_plan(self, plan: Plan) -> None:
        self.plan = plan

    def link_subscription(self, subscription_id: str, created: int) -> None:
        """From now on the workspace follows this subscription (it replaced another)."""
        subscription_id = bounds.text("subscription", subscription_id, max_len=255) or ""
        self._subscription_linked(subscription_id=subscription_id, created=created)

    @event("SubscriptionLinked")
    def _subscription_linked(self, subscription_id: str, created: int) -> None:
        self.subscription_id = subscription_id
        self.subscription_created = created

    @event("SubscriptionChanged")
    def set_subscription(self, active: bool) -> None:
        self.subscription_active = active

    def set_override(self, channel: Channel, included: int | None, max: int | None) -> None:
        if included is not None:
            bounds.count("included", included, error=InvalidOverride)
        if max is not None:
            bounds.count("max", max, error=InvalidOverride)
        if included is not None and max is not None and max < included:
            raise InvalidOverride("max", "max must not be below included")
        self._override_set(channel=channel, included=included, max=max)

    @event("OverrideSet")
    def _override_set(self, channel: Channel, included: int | None, max: int | None) -> None:
        if included is None and max is None:
            self.overrides.pop(channel.value, None)
        else:
            self.overrides[channel.value] = {"included": included, "max": max}
