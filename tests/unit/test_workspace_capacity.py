"""SPEC §2 capacity rules on the Workspace aggregate: the refusals, their order, slot counting,
and that a refused command records nothing (SPEC §6.7)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

import pytest

from domain.enums import Billing, Channel, Plan
from domain.errors import (
    ChannelNotAvailable,
    DomainError,
    InvalidOverride,
    LineLimitReached,
    PaymentPending,
    SubscriptionRequired,
)
from domain.plans import Allowance
from domain.workspace import Workspace
from tests.unit.builders import names, settled, workspace

PENDING = UUID("00000000-0000-0000-0000-00000000a0a0")


def with_pending_email(plan: Plan) -> Workspace:
    """A workspace whose email add-on (PENDING) is awaiting payment."""
    ws = workspace(plan)
    if ws.allowance(Channel.EMAIL).included:
        ws.admit(uuid4(), Channel.EMAIL)
    assert ws.admit(PENDING, Channel.EMAIL) is Billing.ADDON
    return ws


def inactive(plan: Plan) -> Workspace:
    return workspace(plan, active=False)


def inactive_with_pending(plan: Plan) -> Workspace:
    ws = with_pending_email(plan)
    ws.set_subscription(False)
    return ws


def starter_with_phone(plan: Plan) -> Workspace:
    ws = workspace(plan)
    ws.admit(uuid4(), Channel.PHONE)
    return ws


# (setup, plan, channel, refusal) — every refusal of decide_billing/admit, in rule order.
REFUSALS: list[tuple[str, Callable[[Plan], Workspace], Plan, Channel, type[DomainError]]] = [
    ("no_subscription", inactive, Plan.GROWTH, Channel.PHONE, SubscriptionRequired),
    ("no_subscription_before_channel", inactive, Plan.MINI, Channel.PHONE, SubscriptionRequired),
    (
        "no_subscription_before_pending",
        inactive_with_pending,
        Plan.GROWTH,
        Channel.PHONE,
        SubscriptionRequired,
    ),
    ("mini_phone", workspace, Plan.MINI, Channel.PHONE, ChannelNotAvailable),
    (
        "channel_before_pending",
        with_pending_email,
        Plan.MINI,
        Channel.PHONE,
        ChannelNotAvailable,
    ),
    ("pending_blocks_included", with_pending_email, Plan.GROWTH, Channel.PHONE, PaymentPending),
    ("pending_blocks_addon", with_pending_email, Plan.GROWTH, Channel.EMAIL, PaymentPending),
    ("starter_second_phone", starter_with_phone, Plan.STARTER, Channel.PHONE, LineLimitReached),
]


@pytest.mark.parametrize(
    ("setup", "plan", "channel", "error"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refused_admission_raises_its_error_and_records_nothing(
    setup: Callable[[Plan], Workspace], plan: Plan, channel: Channel, error: type[DomainError]
) -> None:
    ws, before = settled(setup(plan))
    with pytest.raises(error):
        ws.admit(uuid4(), channel)
    assert ws.collect_events() == []
    assert ws == before


@pytest.mark.parametrize(
    ("setup", "plan", "channel", "error"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_decide_billing_gives_the_same_refusal_as_admit(
    setup: Callable[[Plan], Workspace], plan: Plan, channel: Channel, error: type[DomainError]
) -> None:
    ws, before = settled(setup(plan))
    with pytest.raises(error):
        ws.decide_billing(channel)
    assert ws.collect_events() == []
    assert ws == before


def test_payment_pending_names_the_request_awaiting_payment() -> None:
    ws = with_pending_email(Plan.GROWTH)
    with pytest.raises(PaymentPending) as refused:
        ws.admit(uuid4(), Channel.PHONE)
    assert refused.value.request_id == PENDING
    assert str(PENDING) in str(refused.value)


def test_payment_pending_is_checked_before_the_line_limit() -> None:
    ws = workspace(Plan.STARTER)
    ws.admit(uuid4(), Channel.PHONE)  # the only phone slot
    ws.admit(PENDING, Channel.EMAIL)  # an add-on awaiting payment
    with pytest.raises(PaymentPending):
        ws.admit(uuid4(), Channel.PHONE)


def test_line_limit_reached_names_the_limit_and_the_channel() -> None:
    ws = starter_with_phone(Plan.STARTER)
    with pytest.raises(LineLimitReached, match="maximum of 1 phone"):
        ws.admit(uuid4(), Channel.PHONE)


def test_channel_not_available_names_channel_and_plan() -> None:
    ws = workspace(Plan.MINI)
    with pytest.raises(ChannelNotAvailable, match="Phone lines are not available on the mini"):
        ws.admit(uuid4(), Channel.PHONE)


def test_decide_billing_records_nothing_even_when_it_admits() -> None:
    ws, before = settled(workspace(Plan.GROWTH))
    assert ws.decide_billing(Channel.PHONE) is Billing.INCLUDED
    assert ws.collect_events() == []
    assert ws == before


def test_admit_records_one_line_admitted_event() -> None:
    ws = workspace(Plan.GROWTH)
    ws.admit(uuid4(), Channel.PHONE)
    assert names(ws.collect_events()) == ["LineAdmitted"]


def test_reactivated_subscription_admits_again() -> None:
    ws = inactive(Plan.GROWTH)
    ws.set_subscription(True)
    assert ws.admit(uuid4(), Channel.PHONE) is Billing.INCLUDED


def test_plan_change_applies_to_the_next_request() -> None:
    ws = workspace(Plan.MINI)
    ws.change_plan(Plan.GROWTH)
    assert ws.admit(uuid4(), Channel.PHONE) is Billing.INCLUDED


# --- slot counting ---------------------------------------------------------------------------


def test_included_admission_holds_a_slot_without_awaiting_payment() -> None:
    ws = workspace(Plan.GROWTH)
    ws.admit(uuid4(), Channel.PHONE)
    assert (ws.held_slots(Channel.PHONE), ws.awaiting_payment) == (1, None)


def test_addon_admission_holds_a_slot_and_awaits_payment() -> None:
    ws = workspace(Plan.GROWTH)
    rid = uuid4()
    assert ws.admit(rid, Channel.EMAIL) is Billing.ADDON
    assert (ws.held_slots(Channel.EMAIL), ws.awaiting_payment) == (1, rid)


def test_provisioning_request_never_blocks_the_next_one() -> None:
    ws = workspace(Plan.GROWTH)
    ws.admit(uuid4(), Channel.PHONE)  # included: provisioning
    assert ws.admit(uuid4(), Channel.PHONE) is Billing.INCLUDED


def test_slots_are_counted_per_channel() -> None:
    ws = workspace(Plan.STARTER)
    ws.admit(uuid4(), Channel.PHONE)
    assert (ws.held_slots(Channel.PHONE), ws.held_slots(Channel.EMAIL)) == (1, 0)


def test_settled_payment_clears_awaiting_but_keeps_the_slot() -> None:
    ws = workspace(Plan.GROWTH)
    rid = uuid4()
    ws.admit(rid, Channel.EMAIL)
    ws.settle_payment(rid)
    assert (ws.held_slots(Channel.EMAIL), ws.awaiting_payment) == (1, None)


def test_settled_payment_lets_the_next_request_through() -> None:
    ws = workspace(Plan.GROWTH)
    rid = uuid4()
    ws.admit(rid, Channel.EMAIL)
    ws.settle_payment(rid)
    assert ws.admit(uuid4(), Channel.EMAIL) is Billing.ADDON


def test_settling_another_request_leaves_the_awaiting_one() -> None:
    ws = with_pending_email(Plan.GROWTH)
    ws.settle_payment(uuid4())
    assert ws.awaiting_payment == PENDING


def test_released_slot_of_canceled_addon_frees_the_slot_and_the_block() -> None:
    ws = workspace(Plan.GROWTH)
    rid = uuid4()
    ws.admit(rid, Channel.EMAIL)
    ws.release_slot(rid, Channel.EMAIL)
    assert (ws.held_slots(Channel.EMAIL), ws.awaiting_payment) == (0, None)


def test_released_slot_of_failed_included_line_can_be_taken_again() -> None:
    ws = workspace(Plan.STARTER)
    rid = uuid4()
    ws.admit(rid, Channel.PHONE)
    ws.release_slot(rid, Channel.PHONE)
    assert ws.admit(uuid4(), Channel.PHONE) is Billing.INCLUDED


def test_releasing_another_request_keeps_the_awaiting_one() -> None:
    ws = workspace(Plan.GROWTH)
    included = uuid4()
    ws.admit(included, Channel.PHONE)
    ws.admit(PENDING, Channel.EMAIL)
    ws.release_slot(included, Channel.PHONE)
    assert (ws.held_slots(Channel.PHONE), ws.awaiting_payment) == (0, PENDING)


def test_releasing_with_no_slot_held_never_goes_negative() -> None:
    ws = workspace(Plan.GROWTH)
    ws.release_slot(uuid4(), Channel.PHONE)
    assert ws.held_slots(Channel.PHONE) == 0


def test_release_and_settle_record_their_events() -> None:
    ws = workspace(Plan.GROWTH)
    rid = uuid4()
    ws.admit(rid, Channel.EMAIL)
    ws.settle_payment(rid)
    ws.release_slot(rid, Channel.EMAIL)
    assert names(ws.collect_events()) == ["LineAdmitted", "PaymentSettled", "SlotReleased"]


# --- overrides on the workspace ----------------------------------------------------------------


def test_set_override_changes_the_workspace_allowance() -> None:
    ws = workspace(Plan.STARTER)
    ws.set_override(Channel.PHONE, 3, 4)
    assert ws.allowance(Channel.PHONE) == Allowance(3, 4)


def test_override_with_neither_value_removes_the_override() -> None:
    ws = workspace(Plan.STARTER)
    ws.set_override(Channel.PHONE, 3, 4)
    ws.set_override(Channel.PHONE, None, None)
    assert ws.allowance(Channel.PHONE) == Allowance(1, 1)


@pytest.mark.parametrize(
    ("included", "max_"),
    [(-1, None), (None, -1), (3, 2)],
    ids=["neg-included", "neg-max", "max<inc"],
)
def test_invalid_override_is_refused_and_records_nothing(
    included: int | None, max_: int | None
) -> None:
    ws, before = settled(workspace(Plan.STARTER))
    with pytest.raises(InvalidOverride):
        ws.set_override(Channel.PHONE, included, max_)
    assert ws.collect_events() == []
    assert ws == before
