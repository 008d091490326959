"""A payment settles a request only with its own invoice (security review, finding 1); any
other paid invoice that names the request is a stray payment, recorded to be refunded (SPEC §6,
invariant 6: every payment is matched to exactly one request, provisioned or refunded)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain import decisions
from domain.enums import Billing, LineState, PaymentStatus
from domain.errors import InvalidValue
from domain.line_request import LineRequest
from tests.unit.builders import (
    INVOICE,
    NOW,
    PRICE,
    in_state,
    names,
    replay,
    request,
    settled,
    workspace,
)

OWN = decisions.InvoiceFacts(
    invoice_id=INVOICE,
    amount_due=PRICE,
    amount_paid=PRICE,
    currency="usd",
    billed_workspace="org_test",
    addon=True,
)


def receive(req: LineRequest, invoice: decisions.InvoiceFacts) -> list[str]:
    """The events one payment notice records."""
    req, _ = settled(req)
    decisions.receive_payment(req, workspace(), invoice, NOW)
    return names(req.collect_events())


def test_the_recorded_invoice_paid_in_full_settles_the_request() -> None:
    req = in_state("awaiting_payment_invoiced")
    assert receive(req, OWN) == ["Paid", "ProvisioningStarted"]
    assert (req.state, req.payment_status, req.stray_payments) == (
        LineState.PROVISIONING,
        PaymentStatus.PAID,
        {},
    )


def test_without_a_recorded_invoice_an_own_add_on_invoice_of_the_price_settles() -> None:
    req = in_state("awaiting_payment")
    assert receive(req, replace(OWN, invoice_id="in_found")) == ["Paid", "ProvisioningStarted"]
    assert req.invoice_id == "in_found"


@pytest.mark.parametrize(
    ("why", "invoice"),
    [
        (
            "another customer, 1 cent",
            replace(
                OWN, invoice_id="in_x", amount_due=1, amount_paid=1, billed_workspace="org_other"
            ),
        ),
        (
            "another customer, the full price",
            replace(OWN, invoice_id="in_x", billed_workspace="org_other"),
        ),
        ("a customer we do not know", replace(OWN, invoice_id="in_x", billed_workspace=None)),
        ("another invoice of the same customer", replace(OWN, invoice_id="in_other")),
        ("a subscription's invoice", replace(OWN, invoice_id="in_x", addon=False)),
        ("another currency", replace(OWN, invoice_id="in_x", currency="eur")),
        ("less than the price", replace(OWN, invoice_id="in_x", amount_due=1, amount_paid=1)),
    ],
)
def test_any_other_paid_invoice_is_a_stray_payment_and_settles_nothing(
    why: str, invoice: decisions.InvoiceFacts
) -> None:
    req = in_state("awaiting_payment_invoiced")
    assert receive(req, invoice) == ["StrayPaymentReceived"], why
    assert (req.state, req.payment_status) == (LineState.AWAITING_PAYMENT, PaymentStatus.PENDING)
    assert req.stray_payments == {
        "in_x" if invoice.invoice_id == "in_x" else "in_other": invoice.amount_paid
    }
    assert "refund" in req.owed_work
    assert receive(req, OWN) == ["Paid", "ProvisioningStarted"]  # the real one, paid later


def test_without_a_recorded_invoice_too_little_or_another_customer_is_stray() -> None:
    for invoice in (
        replace(OWN, invoice_id="in_x", amount_due=1, amount_paid=1),
        replace(OWN, invoice_id="in_x", billed_workspace="org_other"),
    ):
        req = in_state("awaiting_payment")
        assert receive(req, invoice) == ["StrayPaymentReceived"]
        assert req.invoice_id is None and req.needs_invoice


def test_the_recorded_invoice_for_less_than_the_price_settles_when_paid_in_full() -> None:
    """A Stripe price configured for the channel may bill less than TUCO_PRICE_*."""
    req = in_state("awaiting_payment_invoiced")
    assert receive(req, replace(OWN, amount_due=PRICE - 200, amount_paid=PRICE - 200)) == [
        "Paid",
        "ProvisioningStarted",
    ]
    short = in_state("awaiting_payment_invoiced")
    assert receive(short, replace(OWN, amount_paid=PRICE - 1)) == ["StrayPaymentReceived"]


@pytest.mark.parametrize(
    "state", ["active_paid", "provisioning_paid", "failed_paid", "active_included"]
)
def test_an_invoice_naming_a_request_past_payment_is_stray(state: str) -> None:
    req = in_state(state)
    assert receive(req, replace(OWN, invoice_id="in_late")) == ["StrayPaymentReceived"]
    assert req.state is in_state(state).state


def test_a_payment_already_recorded_or_a_stray_reported_again_records_nothing() -> None:
    req = in_state("provisioning_paid")
    assert receive(req, OWN) == []
    assert receive(req, replace(OWN, invoice_id="in_x", billed_workspace="org_other")) == [
        "StrayPaymentReceived"
    ]
    assert receive(req, replace(OWN, invoice_id="in_x", billed_workspace="org_other")) == []


def test_an_included_request_never_takes_a_payment() -> None:
    req = request(Billing.INCLUDED)
    req.start_provisioning(NOW)
    assert receive(req, replace(OWN, billed_workspace="org_test")) == ["StrayPaymentReceived"]
    assert req.payment_status is PaymentStatus.NOT_REQUIRED


def test_a_stray_refund_is_recorded_once_and_folds_back() -> None:
    req = in_state("awaiting_payment_invoiced")
    stray = replace(OWN, invoice_id="in_x", billed_workspace="org_other", amount_paid=1)
    decisions.receive_payment(req, workspace(), stray, NOW)
    assert decisions.refund_stray(req, "in_x", "re_1") == [req]
    assert decisions.refund_stray(req, "in_x", "re_1") == []
    assert (req.stray_payments, req.stray_refunds) == ({}, {"in_x": "re_1"})
    assert "refund" not in req.owed_work
    assert decisions.receive_payment(req, workspace(), stray, NOW) == []
    events = req.collect_events()
    assert names(events)[-2:] == ["StrayPaymentReceived", "StrayPaymentRefunded"]
    folded = replay(events)
    assert (folded.stray_payments, folded.stray_refunds) == ({}, {"in_x": "re_1"})
    assert folded.state is LineState.AWAITING_PAYMENT


def test_only_the_own_invoice_voided_cancels_a_request() -> None:
    req = in_state("awaiting_payment")
    assert decisions.is_own_invoice(req, replace(OWN, invoice_id="in_any"))
    assert not decisions.is_own_invoice(req, replace(OWN, billed_workspace="org_other"))
    invoiced = in_state("awaiting_payment_invoiced")
    assert decisions.is_own_invoice(invoiced, OWN)
    assert not decisions.is_own_invoice(invoiced, replace(OWN, invoice_id="in_other"))


def test_a_negative_amount_is_refused_before_any_event() -> None:
    req, _ = settled(in_state("awaiting_payment_invoiced"))
    with pytest.raises(InvalidValue):
        decisions.receive_payment(req, workspace(), replace(OWN, amount_paid=-1), NOW)
    assert req.collect_events() == []
    assert (req.stray_payments, req.payment_status) == ({}, PaymentStatus.PENDING)
