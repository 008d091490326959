"""An invoice voided or marked uncollectible at Stripe can never be paid: the request waiting
on it is canceled by billing and the workspace is free again (SPEC §4 webhooks)."""

from __future__ import annotations

import pytest

from tests.stripe.helpers import Tuco

CLOSINGS = ["void_invoice", "mark_uncollectible"]


@pytest.mark.parametrize("closing", CLOSINGS)
def test_an_invoice_closed_at_stripe_cancels_the_request_by_billing_and_frees_the_workspace(
    tuco: Tuco, closing: str
) -> None:
    ws = tuco.workspace("org_closed")
    posted = ws.add_on()
    request_id = posted["line"]["_id"]

    getattr(tuco.emu, closing)(posted["line"]["stripeInvoiceId"])

    canceled = ws.wait_for(request_id, "canceled")
    assert canceled["line"]["paymentStatus"] == "void"
    (event,) = tuco.events_of(request_id, "Canceled")
    assert event.by == "billing"
    assert tuco.event_counts(request_id)["Paid"] == 0
    again = ws.add_on()  # not payment_pending
    assert again["line"]["stripeInvoiceId"] != posted["line"]["stripeInvoiceId"]
