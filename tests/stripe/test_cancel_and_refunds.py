"""Cancel voids the Stripe invoice; a payment that still reaches Stripe after a cancel, or a
paid add-on whose provisioning fails, is refunded through Stripe (SPEC §3, §6 invariant 6)."""

from __future__ import annotations

from tests.stripe.helpers import ServeFn, Tuco, creating_calls, refunds_for_invoice, stripe_invoice


def assert_refunded_once(tuco: Tuco, request_id: str, invoice_id: str) -> None:
    """One payment and one refund in the log, one refund at Stripe, never provisioned."""
    counts = tuco.event_counts(request_id)
    assert (counts["Paid"], counts["Refunded"]) == (1, 1), counts
    assert counts["ProvisioningStarted"] == 0, counts
    (refund,) = refunds_for_invoice(tuco.emu, invoice_id)
    assert refund["amount"] == stripe_invoice(tuco.emu, invoice_id)["amount_paid"]
    assert refund["status"] == "succeeded"
    assert tuco.events_of(request_id, "Refunded")[0].refund_id == refund["id"]


def test_canceling_an_add_on_voids_its_stripe_invoice_and_frees_the_workspace(
    tuco: Tuco,
) -> None:
    ws = tuco.workspace("org_cancel")
    posted = ws.add_on()
    canceled = ws.act(posted["line"]["_id"], "cancel")
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["line"]["paymentStatus"] == "void"
    assert stripe_invoice(tuco.emu, posted["line"]["stripeInvoiceId"])["status"] == "void"
    ws.add_on()  # no payment_pending: the workspace is free again


def test_a_payment_that_reaches_stripe_after_the_cancel_is_refunded_and_never_provisioned(
    serve: ServeFn,
) -> None:
    tuco = serve("--no-worker")  # nothing retries the void behind the test's back
    ws = tuco.workspace("org_late_payment")
    posted = ws.add_on()
    request_id, invoice_id = posted["line"]["_id"], posted["line"]["stripeInvoiceId"]

    tuco.emu.set_unavailable(True)
    canceled = ws.act(request_id, "cancel")
    tuco.emu.set_unavailable(False)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    assert stripe_invoice(tuco.emu, invoice_id)["status"] == "open"  # the void is pending

    tuco.emu.pay_invoice(invoice_id)

    line = ws.wait_for_line(request_id, paymentStatus="refunded")
    assert line["provisioningStatus"] == "canceled"
    assert line["isActive"] is False
    assert_refunded_once(tuco, request_id, invoice_id)


def test_a_payment_taken_while_stripe_could_not_be_reached_is_refunded_by_the_worker(
    tuco: Tuco,
) -> None:
    ws = tuco.workspace("org_outage_payment")
    posted = ws.add_on()
    request_id, invoice_id = posted["line"]["_id"], posted["line"]["stripeInvoiceId"]

    tuco.emu.set_unavailable(True)
    assert ws.act(request_id, "cancel").json()["status"] == "canceled"
    tuco.emu.pay_invoice(invoice_id)
    tuco.emu.set_unavailable(False)
    (paid_delivery,) = [d for d in tuco.emu.deliveries if d["type"] == "invoice.paid"]
    assert not 200 <= paid_delivery["status"] < 300  # the invoice could not be re-read

    ws.wait_for_line(request_id, paymentStatus="refunded")
    assert_refunded_once(tuco, request_id, invoice_id)
    assert all(status == 200 for status in tuco.emu.deliver())  # Stripe's retries: no-ops
    assert_refunded_once(tuco, request_id, invoice_id)


def test_a_paid_add_on_whose_provisioning_fails_is_refunded_through_stripe(
    serve: ServeFn,
) -> None:
    tuco = serve(TUCO_SANDBOX_PROVISION_SECONDS="600")
    ws = tuco.workspace("org_failed")
    posted = ws.add_on()
    request_id, invoice_id = posted["line"]["_id"], posted["line"]["stripeInvoiceId"]
    tuco.emu.pay_invoice(invoice_id)
    ws.wait_for(request_id, "provisioning")

    failed = tuco.cli("lines", "fail", request_id, "--reason", "the carrier refused the number")
    assert failed.returncode == 0, failed.stderr

    line = ws.wait_for_line(request_id, paymentStatus="refunded")
    assert line["provisioningStatus"] == "failed"
    counts = tuco.event_counts(request_id)
    assert (counts["Paid"], counts["ProvisioningFailed"], counts["Refunded"]) == (1, 1, 1)
    (refund,) = refunds_for_invoice(tuco.emu, invoice_id)
    assert refund["metadata"]["line_request_id"] == request_id
    refund_calls = [c for c in creating_calls(tuco.emu) if c["path"] == "/v1/refunds"]
    assert refund_calls
    assert all(request_id in (c["idempotency_key"] or "") for c in refund_calls)
