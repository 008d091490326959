"""Builders shared by the domain unit tests: workspaces, line requests in every state, and a
replay of collected events (the fold)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.enums import Billing, Channel, LineType, Plan, RequestSource
from domain.line_request import LineRequest
from domain.workspace import Workspace

A = TypeVar("A", bound=Aggregate)

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
INVOICE = "in_1"
PRICE = 1500


def workspace(
    plan: Plan = Plan.GROWTH, active: bool = True, workspace_id: str = "org_test"
) -> Workspace:
    """A workspace with its creation event already collected."""
    ws = Workspace(workspace_id=workspace_id, name="Test", plan=plan, subscription_active=active)
    ws.collect_events()
    return ws


def request(
    billing: Billing,
    channel: Channel = Channel.EMAIL,
    phone: str | None = None,
    email: str | None = None,
    workspace_id: str = "org_test",
) -> LineRequest:
    """A freshly requested line (its Requested event still pending)."""
    addon = billing is Billing.ADDON
    return LineRequest(
        id=uuid4(),
        workspace_id=workspace_id,
        channel=channel,
        line_type=LineType.PURCHASED,
        first_name="Ada",
        last_name="Lovelace",
        email=email,
        phone=phone,
        billing=billing,
        price_amount=PRICE if addon else None,
        currency="usd" if addon else None,
        source=RequestSource.API,
        idempotency_key=None,
        fingerprint="fp",
        daily_new_conversations_limit=50,
        daily_total_messages_limit=500,
    )


def _requested(r: LineRequest) -> None:
    pass


def _invoiced(r: LineRequest) -> None:
    r.record_invoice(INVOICE, "https://pay.example/in_1")


def _paid(r: LineRequest) -> None:
    _invoiced(r)
    r.record_payment(INVOICE, PRICE, NOW)


def _started(r: LineRequest) -> None:
    r.start_provisioning(NOW)


def _activated(r: LineRequest) -> None:
    r.activate(phone=None, email="ada@example.com", provider_ref="prov_1")


def _failed(r: LineRequest) -> None:
    r.fail("carrier said no")


def _canceled(r: LineRequest) -> None:
    r.cancel("user_1", "changed my mind")


def _late_payment(r: LineRequest) -> None:
    r.record_payment(INVOICE, PRICE, NOW)


def _steps(*steps: Callable[[LineRequest], None]) -> Callable[[LineRequest], None]:
    def run(r: LineRequest) -> None:
        for step in steps:
            step(r)

    return run


# Every start state the transition table uses: how the request was billed and how it got there.
STATES: dict[str, tuple[Billing, Callable[[LineRequest], None]]] = {
    "requested_included": (Billing.INCLUDED, _requested),
    "awaiting_payment": (Billing.ADDON, _requested),
    "awaiting_payment_invoiced": (Billing.ADDON, _invoiced),
    "provisioning_included": (Billing.INCLUDED, _started),
    "provisioning_paid": (Billing.ADDON, _paid),
    "active_included": (Billing.INCLUDED, _steps(_started, _activated)),
    "active_paid": (Billing.ADDON, _steps(_paid, _activated)),
    "failed_included": (Billing.INCLUDED, _steps(_started, _failed)),
    "failed_paid": (Billing.ADDON, _steps(_paid, _failed)),
    "canceled": (Billing.ADDON, _canceled),
    "canceled_invoiced": (Billing.ADDON, _steps(_invoiced, _canceled)),
    "canceled_paid": (Billing.ADDON, _steps(_invoiced, _canceled, _late_payment)),
}


def in_state(name: str, channel: Channel = Channel.EMAIL) -> LineRequest:
    """A request driven to one of STATES, with every event it recorded still pending."""
    billing, drive = STATES[name]
    r = request(billing, channel=channel)
    drive(r)
    return r


def settled(aggregate: A) -> tuple[A, A]:
    """Collect the pending events, and return the aggregate with a deep copy of its state,
    to compare against after a command that must change nothing."""
    aggregate.collect_events()
    return aggregate, copy.deepcopy(aggregate)


def names(events: Sequence[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def replay(events: Sequence[Any]) -> Any:
    """The fold: the first event creates the aggregate, the rest mutate it in order."""
    aggregate = events[0].mutate(None)
    for e in events[1:]:
        aggregate = e.mutate(aggregate)
    return aggregate


def admit_settled(ws: Workspace, channel: Channel) -> Billing:
    """Admit a request and, when it is a paid add-on, settle its payment at once, so that
    the next request is not blocked by payment_pending."""
    rid: UUID = uuid4()
    billing = ws.admit(rid, channel)
    if billing is Billing.ADDON:
        ws.settle_payment(rid)
    return billing
