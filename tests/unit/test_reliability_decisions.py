"""Pure decisions of issue 12: overlapping subscriptions, the provisioning deadline, late
provisioner answers and the search for an unrecorded invoice. No database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import decisions
from domain.enums import Channel, LineState, Plan
from domain.errors import InvalidTransition
from domain.line_state import PROVISIONING_TIMEOUT
from domain.workspace import Workspace
from tests.unit.builders import NOW, in_state, names, replay, settled, workspace

A, B = "sub_A", "sub_B"


def following(sub: str, created: int, plan: Plan = Plan.STARTER):  # type: ignore[no-untyped-def]
    ws = workspace(plan=plan)
    assert names(decisions.apply_subscription(ws, sub, created, plan, True)) == ["Workspace"]
    return settled(ws)[0]


def test_the_first_subscription_heard_of_is_linked() -> None:
    ws = workspace(plan=Plan.MINI, active=False)
    decisions.apply_subscription(ws, A, 100, Plan.STARTER, True)
    assert (ws.subscription_id, ws.plan, ws.subscription_active) == (A, Plan.STARTER, True)
    assert names(ws.collect_events()) == [
        "SubscriptionLinked", "PlanChanged", "SubscriptionChanged"
    ]  # fmt: skip


def test_a_late_deletion_of_a_replaced_subscription_changes_nothing() -> None:
    ws = following(A, 100)
    decisions.apply_subscription(ws, B, 200, Plan.GROWTH, True)  # the upgrade
    ws, before = settled(ws)
    assert decisions.apply_subscription(ws, A, 100, Plan.STARTER, False) == []
    assert ws.collect_events() == []
    assert (ws.subscription_id, ws.plan, ws.subscription_active) == (B, Plan.GROWTH, True)
    assert ws.__dict__ == before.__dict__


def test_the_current_subscription_ending_deactivates_the_workspace() -> None:
    ws = following(A, 100)
    decisions.apply_subscription(ws, A, 100, Plan.STARTER, False)
    assert ws.subscription_active is False


def test_an_older_subscription_still_active_does_not_take_over_from_a_newer_one() -> None:
    ws = following(B, 200, Plan.GROWTH)
    assert decisions.apply_subscription(ws, A, 100, Plan.STARTER, True) == []
    assert (ws.subscription_id, ws.plan) == (B, Plan.GROWTH)


def test_an_active_subscription_replaces_an_ended_one_whatever_its_age() -> None:
    ws = following(B, 200)
    decisions.apply_subscription(ws, B, 200, Plan.STARTER, False)
    decisions.apply_subscription(ws, A, 100, Plan.GROWTH, True)
    assert (ws.subscription_id, ws.plan, ws.subscription_active) == (A, Plan.GROWTH, True)


def test_the_same_news_twice_records_nothing_the_second_time() -> None:
    ws = following(A, 100)
    assert decisions.apply_subscription(ws, A, 100, Plan.STARTER, True) == []


def test_the_linked_subscription_survives_a_replay() -> None:
    ws = Workspace(workspace_id="org_test", name="Test", plan=Plan.MINI, subscription_active=True)
    decisions.apply_subscription(ws, A, 100, Plan.STARTER, True)
    folded = replay(ws.collect_events())
    assert (folded.subscription_id, folded.subscription_created, folded.plan) == (
        A, 100, Plan.STARTER
    )  # fmt: skip


# --- the provisioning deadline -------------------------------------------------------------


def test_a_request_is_overdue_only_after_its_deadline() -> None:
    req, ws = in_state("provisioning_included", Channel.PHONE), workspace()
    ws.admit(req.id, Channel.PHONE)
    assert decisions.expire(req, ws, NOW + timedelta(seconds=60), 60) == []
    saved = decisions.expire(req, ws, NOW + timedelta(seconds=61), 60)
    assert names(saved) == ["Workspace", "LineRequest"]
    assert (req.state, req.failure_reason) == (LineState.FAILED, PROVISIONING_TIMEOUT)
    assert ws.held_slots(Channel.PHONE) == 0


def test_no_deadline_when_it_is_zero() -> None:
    req = in_state("provisioning_included")
    assert decisions.expire(req, workspace(), NOW + timedelta(days=365), 0) == []


def test_a_paid_add_on_that_times_out_is_owed_a_refund() -> None:
    req = in_state("provisioning_paid")
    decisions.expire(req, workspace(), NOW + timedelta(hours=2), 3600)
    assert "refund" in req.owed_work


def test_a_late_answer_is_kept_once_per_status_and_changes_nothing_else() -> None:
    req = in_state("provisioning_included")
    decisions.expire(req, workspace(), NOW + timedelta(hours=2), 3600)
    req, before = settled(req)
    assert names(decisions.answer_late(req, "active", "carrier-1")) == ["LineRequest"]
    assert decisions.answer_late(req, "active", "carrier-1") == []
    assert names(decisions.answer_late(req, "failed", None)) == ["LineRequest"]
    assert names(req.collect_events()) == ["ProvisioningAnsweredLate"] * 2
    assert (req.state, req.failure_reason, req.phone) == (before.state,
        before.failure_reason, before.phone)  # fmt: skip


def test_an_answer_for_a_request_that_did_not_time_out_is_no_late_answer() -> None:
    with pytest.raises(InvalidTransition):
        decisions.answer_late(in_state("failed_included"), "active", None)


# --- the search for an unrecorded invoice --------------------------------------------------


def test_only_a_canceled_add_on_without_an_invoice_owes_a_search() -> None:
    assert "invoice_search" in in_state("canceled").owed_work
    for name in ("canceled_invoiced", "awaiting_payment", "failed_paid", "canceled_paid"):
        assert "invoice_search" not in in_state(name).owed_work, name


def test_an_invoice_found_is_recorded_and_then_owed_a_void() -> None:
    req = in_state("canceled")
    decisions.record_invoice_search(req, ("in_9", "https://pay.example/in_9"))
    assert req.invoice_id == "in_9"
    assert req.owed_work == frozenset({"void"})


def test_a_search_that_found_nothing_is_recorded_once() -> None:
    req, _ = settled(in_state("canceled"))
    assert names(decisions.record_invoice_search(req, None)) == ["LineRequest"]
    assert req.owed_work == frozenset()
    assert decisions.record_invoice_search(req, None) == []
    assert names(req.collect_events()) == ["InvoiceSearched"]
