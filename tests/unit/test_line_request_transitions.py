"""SPEC §3: every allowed and refused LineRequest transition, and what each one records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.enums import Billing, Channel, LineState, PaymentStatus
from domain.errors import InvalidTransition, MissingLineDetails
from domain.line_request import LineRequest
from tests.unit.builders import INVOICE, NOW, PRICE, STATES, in_state, names, request, settled

AWAITING, PROVISIONING, ACTIVE = (
    LineState.AWAITING_PAYMENT,
    LineState.PROVISIONING,
    LineState.ACTIVE,
)
FAILED, CANCELED = LineState.FAILED, LineState.CANCELED
NOOP = "noop"  # accepted as already recorded: returns False and records nothing

ACTIONS: dict[str, Callable[[LineRequest], Any]] = {
    "record_invoice": lambda r: r.record_invoice("in_new", "https://pay.example/in_new"),
    "record_payment": lambda r: r.record_payment(INVOICE, PRICE, NOW),
    "start_provisioning": lambda r: r.start_provisioning(NOW),
    "activate": lambda r: r.activate(phone="+15550100", email=None, provider_ref="prov_9"),
    "fail": lambda r: r.fail("no numbers left"),
    "cancel": lambda r: r.cancel("user_2", "too slow"),
    "record_void": lambda r: r.record_void(r.invoice_id or INVOICE),
    "record_refund": lambda r: r.record_refund("re_1", PRICE),
}

# (start state, action) -> state after, or NOOP. Every pair not listed is refused with
# InvalidTransition and records nothing.
ALLOWED: dict[tuple[str, str], LineState | str] = {
    ("requested_included", "start_provisioning"): PROVISIONING,
    ("awaiting_payment", "record_invoice"): AWAITING,
    ("awaiting_payment", "record_payment"): PROVISIONING,
    ("awaiting_payment", "cancel"): CANCELED,
    ("awaiting_payment_invoiced", "record_payment"): PROVISIONING,
    ("awaiting_payment_invoiced", "cancel"): CANCELED,
    ("provisioning_included", "activate"): ACTIVE,
    ("provisioning_included", "fail"): FAILED,
    ("provisioning_paid", "record_payment"): NOOP,
    ("provisioning_paid", "activate"): ACTIVE,
    ("provisioning_paid", "fail"): FAILED,
    ("active_paid", "record_payment"): NOOP,
    ("failed_paid", "record_payment"): NOOP,
    ("failed_paid", "record_refund"): FAILED,
    ("canceled", "record_invoice"): CANCELED,  # the late invoice is recorded to be voided
    ("canceled", "record_payment"): CANCELED,  # recorded to be refunded, never provisioned
    ("canceled_invoiced", "record_payment"): CANCELED,
    ("canceled_invoiced", "record_void"): CANCELED,
    ("canceled_paid", "record_payment"): NOOP,
    ("canceled_paid", "record_refund"): CANCELED,
}

TABLE = [(s, a) for s in STATES for a in ACTIONS]
TERMINAL = [s for s in STATES if s.split("_")[0] in ("active", "failed", "canceled")]
LIFECYCLE = ["start_provisioning", "activate", "fail", "cancel"]


@pytest.mark.parametrize("start", list(STATES))
def test_start_state_is_what_its_name_says(start: str) -> None:
    prefix = "awaiting_payment" if start.startswith("awaiting") else start.split("_")[0]
    assert in_state(start).state_name == prefix


@pytest.mark.parametrize(("start", "action"), TABLE, ids=[f"{s}-{a}" for s, a in TABLE])
def test_transition_is_allowed_or_refused_as_the_table_says(start: str, action: str) -> None:
    r, before = settled(in_state(start))
    expected = ALLOWED.get((start, action))
    if expected is None:
        with pytest.raises(InvalidTransition):
            ACTIONS[action](r)
    elif expected == NOOP:
        assert ACTIONS[action](r) is False
    else:
        ACTIONS[action](r)
        assert r.state is expected
        assert r.collect_events() != []
        return
    assert r.collect_events() == []
    assert r == before


@pytest.mark.parametrize("action", LIFECYCLE)
@pytest.mark.parametrize("start", TERMINAL)
def test_terminal_state_refuses_every_lifecycle_transition(start: str, action: str) -> None:
    r, before = settled(in_state(start))
    with pytest.raises(InvalidTransition) as refused:
        ACTIONS[action](r)
    assert refused.value.state == before.state_name
    assert (r.collect_events(), r) == ([], before)


def test_invalid_transition_names_the_action_and_the_state() -> None:
    r = in_state("active_paid")
    with pytest.raises(InvalidTransition, match="Cannot cancel a line request that is active"):
        r.cancel("user_1", "late")


# --- requested ------------------------------------------------------------------------------


def test_addon_request_starts_awaiting_payment_with_payment_pending() -> None:
    r = request(Billing.ADDON)
    assert (r.state, r.payment_status, r.needs_invoice) == (AWAITING, PaymentStatus.PENDING, True)


def test_included_request_has_no_state_until_provisioning_starts() -> None:
    r = request(Billing.INCLUDED)
    assert (r.state, r.state_name, r.payment_status) == (
        None,
        "requested",
        PaymentStatus.NOT_REQUIRED,
    )


def test_included_request_records_requested_then_provisioning_started() -> None:
    r = request(Billing.INCLUDED)
    r.start_provisioning(NOW)
    assert names(r.collect_events()) == ["Requested", "ProvisioningStarted"]
    assert (r.state, r.provisioning_started_at) == (PROVISIONING, NOW)


def test_included_request_cannot_start_provisioning_twice() -> None:
    r, before = settled(in_state("provisioning_included"))
    with pytest.raises(InvalidTransition):
        r.start_provisioning(NOW)
    assert (r.collect_events(), r) == ([], before)


def test_addon_cannot_start_provisioning_without_a_payment() -> None:
    r, before = settled(request(Billing.ADDON))
    with pytest.raises(InvalidTransition):
        r.start_provisioning(NOW)
    assert (r.collect_events(), r) == ([], before)


# --- invoice ------------------------------------------------------------------------------------


def test_recorded_invoice_gives_the_payment_url() -> None:
    r, _ = settled(request(Billing.ADDON))
    assert r.record_invoice("in_7", "https://pay.example/in_7") is True
    assert (r.invoice_id, r.payment_url, r.needs_invoice) == (
        "in_7",
        "https://pay.example/in_7",
        False,
    )
    assert names(r.collect_events()) == ["Invoiced"]


def test_same_invoice_recorded_twice_returns_false_and_records_nothing() -> None:
    r, before = settled(in_state("awaiting_payment_invoiced"))
    assert r.record_invoice(INVOICE, "https://pay.example/in_1") is False
    assert (r.collect_events(), r) == ([], before)


# --- payment ------------------------------------------------------------------------------------


def test_payment_moves_awaiting_to_provisioning_with_paid_and_provisioning_started() -> None:
    r, _ = settled(in_state("awaiting_payment_invoiced"))
    assert r.record_payment(INVOICE, PRICE, NOW) is True
    assert names(r.collect_events()) == ["Paid", "ProvisioningStarted"]
    assert (r.state, r.payment_status, r.amount_paid) == (PROVISIONING, PaymentStatus.PAID, PRICE)


def test_duplicate_payment_returns_false_and_records_nothing() -> None:
    r, before = settled(in_state("provisioning_paid"))
    assert r.record_payment(INVOICE, PRICE, NOW) is False
    assert (r.collect_events(), r) == ([], before)


def test_payment_after_cancel_is_recorded_refund_due_and_never_provisioned() -> None:
    r, _ = settled(in_state("canceled_invoiced"))
    assert r.record_payment(INVOICE, PRICE, NOW) is True
    assert names(r.collect_events()) == ["Paid"]
    assert (r.state, r.payment_status, r.refund_due) == (CANCELED, PaymentStatus.PAID, True)
    assert r.provisioning_started_at is None


def test_included_line_refuses_a_payment() -> None:
    r, before = settled(in_state("provisioning_included"))
    with pytest.raises(InvalidTransition):
        r.record_payment(INVOICE, PRICE, NOW)
    assert (r.collect_events(), r) == ([], before)


# --- activate / fail ----------------------------------------------------------------------------


def test_activation_records_the_assigned_phone_and_provider_reference() -> None:
    r, _ = settled(in_state("provisioning_paid", channel=Channel.PHONE))
    r.activate(phone="+15550100", email=None, provider_ref="prov_9")
    assert (r.state, r.phone, r.provider_ref) == (ACTIVE, "+15550100", "prov_9")
    assert names(r.collect_events()) == ["Activated"]


def test_phone_line_without_any_phone_cannot_be_activated() -> None:
    r, before = settled(in_state("provisioning_included", channel=Channel.PHONE))
    with pytest.raises(MissingLineDetails) as refused:
        r.activate(phone=None, email=None, provider_ref="prov_9")
    assert refused.value.param == "phone"
    assert (r.collect_events(), r) == ([], before)


def test_phone_line_activates_with_the_phone_it_requested() -> None:
    r = request(Billing.INCLUDED, channel=Channel.PHONE, phone="+15550199")
    r.start_provisioning(NOW)
    r.activate(phone=None, email=None, provider_ref="prov_9")
    assert (r.state, r.phone) == (ACTIVE, "+15550199")


def test_activation_keeps_the_requested_email_when_none_is_assigned() -> None:
    r = request(Billing.INCLUDED, email="ada@example.com")
    r.start_provisioning(NOW)
    r.activate(phone=None, email=None, provider_ref="prov_9")
    assert r.email == "ada@example.com"


def test_failure_records_its_reason() -> None:
    r, _ = settled(in_state("provisioning_included"))
    r.fail("carrier down")
    assert (r.state, r.failure_reason) == (FAILED, "carrier down")
    assert names(r.collect_events()) == ["ProvisioningFailed"]


def test_failed_paid_addon_is_due_a_refund() -> None:
    assert in_state("failed_paid").refund_due is True


def test_failed_included_line_is_not_due_a_refund() -> None:
    assert in_state("failed_included").refund_due is False


# --- cancel / void / refund ---------------------------------------------------------------------


def test_cancel_records_who_and_voids_the_payment() -> None:
    r, _ = settled(in_state("awaiting_payment_invoiced"))
    r.cancel("user_2", "too slow")
    assert (r.state, r.canceled_by, r.payment_status) == (CANCELED, "user_2", PaymentStatus.VOID)
    assert names(r.collect_events()) == ["Canceled"]


def test_canceled_invoiced_request_needs_its_invoice_voided() -> None:
    assert in_state("canceled_invoiced").needs_void is True


def test_canceled_request_without_invoice_needs_no_void() -> None:
    assert in_state("canceled").needs_void is False


def test_void_records_the_invoice_voided_once() -> None:
    r, _ = settled(in_state("canceled_invoiced"))
    r.record_void(INVOICE)
    assert (r.invoice_voided, r.needs_void) == (True, False)
    assert names(r.collect_events()) == ["InvoiceVoided"]
    with pytest.raises(InvalidTransition):
        r.record_void(INVOICE)


def test_void_of_another_invoice_is_refused() -> None:
    r, before = settled(in_state("canceled_invoiced"))
    with pytest.raises(InvalidTransition):
        r.record_void("in_other")
    assert (r.collect_events(), r) == ([], before)


def test_refund_settles_the_payment_and_is_due_no_more() -> None:
    r, _ = settled(in_state("canceled_paid"))
    r.record_refund("re_1", PRICE)
    assert (r.payment_status, r.refund_id, r.refund_due) == (
        PaymentStatus.REFUNDED,
        "re_1",
        False,
    )
    assert names(r.collect_events()) == ["Refunded"]


def test_payment_after_refund_returns_false_and_records_nothing() -> None:
    r = in_state("canceled_paid")
    r.record_refund("re_1", PRICE)
    r, before = settled(r)
    assert r.record_payment(INVOICE, PRICE, NOW) is False
    assert (r.collect_events(), r) == ([], before)


# --- slots --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "holds"),
    [
        ("requested_included", False),
        ("awaiting_payment", True),
        ("provisioning_paid", True),
        ("active_included", True),
        ("failed_paid", False),
        ("canceled", False),
    ],
)
def test_only_awaiting_provisioning_and_active_hold_a_slot(start: str, holds: bool) -> None:
    assert in_state(start).holds_slot is holds
