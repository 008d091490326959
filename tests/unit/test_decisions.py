"""The decisions that span a request and its workspace, as pure functions: no database, no
application, just aggregates in and events out."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain import decisions
from domain.enums import Billing, Channel, LineState, LineType, PaymentStatus, Plan, RequestSource
from domain.errors import (
    IdempotencyConflict,
    InvalidTransition,
    InvalidValue,
    PaymentPending,
    SubscriptionRequired,
)
from domain.line_request import LineRequest
from domain.workspace import Workspace
from tests.unit.builders import INVOICE, NOW, PRICE, in_state, names, settled, workspace

TERMS = decisions.Terms(
    price_amount=PRICE,
    currency="usd",
    daily_new_conversations_limit=20,
    daily_total_messages_limit=150,
)


def details(channel: Channel = Channel.PHONE, last_name: str = "Lovelace") -> decisions.LineDetails:
    return decisions.LineDetails(
        workspace_id="org_test",
        channel=channel,
        line_type=LineType.PURCHASED,
        first_name="Ada",
        last_name=last_name,
        email="ada@example.com" if channel is Channel.EMAIL else None,
        phone=None,
        source=RequestSource.API,
        idempotency_key="k1",
    )


def request(ws: Workspace, channel: Channel = Channel.PHONE) -> LineRequest:
    req, changed = decisions.request_line(ws, None, uuid4(), details(channel), TERMS, NOW)
    assert changed == [ws, req]
    for agg in changed:
        agg.collect_events()
    return req


def test_an_included_request_starts_provisioning_with_its_workspace() -> None:
    ws = workspace(Plan.GROWTH)
    req, changed = decisions.request_line(ws, None, uuid4(), details(), TERMS, NOW)
    assert changed == [ws, req]
    assert names(req.collect_events()) == ["Requested", "ProvisioningStarted"]
    assert names(ws.collect_events()) == ["LineAdmitted"]
    assert req.state is LineState.PROVISIONING and req.price_amount is None


def test_an_addon_waits_for_payment_at_the_configured_price() -> None:
    ws = workspace(Plan.STARTER)
    req, _ = decisions.request_line(ws, None, uuid4(), details(Channel.EMAIL), TERMS, NOW)
    assert req.state is LineState.AWAITING_PAYMENT
    assert (req.billing, req.price_amount, req.currency) == (Billing.ADDON, PRICE, "usd")
    assert ws.awaiting_payment == req.id


def test_a_refused_request_records_nothing_on_either_aggregate() -> None:
    ws, before = settled(workspace(Plan.STARTER))
    request(ws, Channel.EMAIL)  # awaiting payment now
    ws, before = settled(ws)
    with pytest.raises(PaymentPending):
        decisions.request_line(ws, None, uuid4(), details(Channel.EMAIL), TERMS, NOW)
    assert ws.pending_events == [] and ws.__dict__ == before.__dict__


def test_no_workspace_means_no_subscription() -> None:
    with pytest.raises(SubscriptionRequired):
        decisions.request_line(None, None, uuid4(), details(), TERMS, NOW)


def test_an_idempotent_replay_answers_the_existing_request_and_saves_nothing() -> None:
    ws = workspace(Plan.GROWTH)
    first = request(ws)
    again, changed = decisions.request_line(ws, first, first.id, details(), TERMS, NOW)
    assert (again, changed) == (first, [])
    with pytest.raises(IdempotencyConflict):
        decisions.request_line(ws, first, first.id, details(last_name="Other"), TERMS, NOW)


def test_payment_moves_an_addon_to_provisioning_and_frees_the_workspace() -> None:
    ws = workspace(Plan.STARTER)
    req = request(ws, Channel.EMAIL)
    req.record_invoice(INVOICE, "https://pay/1")
    changed = decisions.pay(req, ws, INVOICE, PRICE, NOW)
    assert changed == [ws, req]
    assert ws.awaiting_payment is None and req.state is LineState.PROVISIONING
    assert decisions.pay(req, ws, INVOICE, PRICE, NOW) == []  # a duplicate changes nothing


def test_a_payment_after_cancel_is_recorded_for_refund_without_the_workspace() -> None:
    ws = workspace(Plan.STARTER)
    req = request(ws, Channel.EMAIL)
    decisions.cancel(req, ws, "user", "no longer needed")
    assert ws.held_slots(Channel.EMAIL) == 0 and ws.awaiting_payment is None
    assert decisions.pay(req, ws, INVOICE, PRICE, NOW) == [req]
    assert req.refund_due
    assert decisions.refund(req, "re_1") == [req]
    assert req.payment_status is PaymentStatus.REFUNDED
    assert decisions.refund(req, "re_1") == []


def test_failure_frees_the_slot_and_only_provisioning_can_fail() -> None:
    ws = workspace(Plan.GROWTH)
    req = request(ws)
    assert decisions.fail(req, ws, "carrier said no") == [ws, req]
    assert ws.held_slots(Channel.PHONE) == 0
    ws, before = settled(ws)
    with pytest.raises(InvalidTransition):
        decisions.fail(req, ws, "again")
    assert ws.pending_events == [] and ws.held == before.held


@pytest.mark.parametrize("amount", [-1, 2**31, True])
def test_an_amount_out_of_bounds_is_refused_before_any_event(amount: int) -> None:
    req, before = settled(in_state("awaiting_payment_invoiced"))
    with pytest.raises(InvalidValue):
        decisions.pay(req, workspace(), INVOICE, amount, NOW)
    assert req.pending_events == [] and req.state is before.state


def test_payment_link_is_refused_once_the_request_ended() -> None:
    decisions.check_payment_link_state(LineState.PROVISIONING)
    for state in (LineState.CANCELED, LineState.FAILED):
        with pytest.raises(InvalidTransition):
            decisions.check_payment_link_state(state)
