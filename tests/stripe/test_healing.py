"""Payments whose webhook is lost are still found: by the worker's reconciliation sweep and by
`{"action": "payment_link"}`; an invoice Stripe could not create at once is created later
(SPEC §3, §4)."""

from __future__ import annotations

from typing import Any

from domain.enums import Plan
from tests.stripe.helpers import API_KEY, SECRET, ServeFn, Tuco, Workspace, eventually, start_tuco
from tests.support.server import free_port
from tests.support.stripe_emulator import StripeEmulator


def lose_webhooks(emu: StripeEmulator) -> None:
    """Point Stripe's webhooks at a port where nothing listens."""
    emu.webhook_url = f"http://127.0.0.1:{free_port()}/api/webhooks/stripe"


def pay_with_lost_webhook(tuco: Tuco, ws: Workspace) -> str:
    """Request an add-on and pay it at Stripe while its webhook cannot arrive; its id."""
    posted = ws.add_on()
    lose_webhooks(tuco.emu)
    tuco.emu.pay_invoice(posted["line"]["stripeInvoiceId"])
    paid = [d for d in tuco.emu.deliveries if d["type"] == "invoice.paid"]
    assert paid and all(d["status"] == 0 for d in paid)  # never reached the service
    return str(posted["line"]["_id"])


def test_a_payment_whose_webhook_never_arrives_is_found_by_the_reconciliation_sweep(
    serve: ServeFn,
) -> None:
    tuco = serve(TUCO_RECONCILE_SECONDS="0")  # the sweep runs on every worker pass (0.1 s)
    ws = tuco.workspace("org_sweep")
    request_id = pay_with_lost_webhook(tuco, ws)
    ws.wait_for(request_id, "active", timeout=10)
    assert tuco.event_counts(request_id)["Paid"] == 1


def test_payment_link_records_a_payment_whose_webhook_was_lost_and_answers_provisioning(
    serve: ServeFn,
) -> None:
    # No worker: its first reconciliation sweep (due on its first pass) could find the
    # payment before this test asks, on a slow machine; only payment_link may find it here.
    tuco = serve("--no-worker")
    ws = tuco.workspace("org_link")
    request_id = pay_with_lost_webhook(tuco, ws)
    assert ws.get(request_id)["status"] == "awaiting_payment"

    r = ws.act(request_id, "payment_link")

    assert r.status_code == 200, r.text
    assert r.json()["status"] == "provisioning"
    assert r.json()["paymentUrl"] is None
    assert r.json()["line"]["paymentStatus"] == "paid"
    assert tuco.event_counts(request_id)["Paid"] == 1


def test_payment_link_of_an_open_invoice_returns_its_stripe_hosted_link(tuco: Tuco) -> None:
    ws = tuco.workspace("org_open_link")
    posted = ws.add_on()
    r = ws.act(posted["line"]["_id"], "payment_link")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awaiting_payment"
    assert r.json()["paymentUrl"] == posted["paymentUrl"]


def test_an_add_on_requested_while_stripe_is_down_gets_its_invoice_once_stripe_is_back(
    tuco: Tuco,
) -> None:
    ws = tuco.workspace("org_late_invoice")
    tuco.emu.set_unavailable(True)
    r = ws.request_line()
    tuco.emu.set_unavailable(False)
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["paymentUrl"]) == ("awaiting_payment", None)
    request_id = r.json()["line"]["_id"]

    def invoiced() -> dict[str, Any] | None:
        line: dict[str, Any] = ws.get(request_id)["line"]
        return line if line["stripeInvoiceId"] else None

    line = eventually(invoiced, "the worker to create the invoice", timeout=10)
    invoices = [
        inv
        for inv in tuco.emu.objects("invoice").values()
        if inv["metadata"].get("line_request_id") == request_id
    ]
    assert [inv["id"] for inv in invoices] == [line["stripeInvoiceId"]]
    assert line["paymentLinkUrl"] == invoices[0]["hosted_invoice_url"]


def test_a_request_whose_invoice_stripe_does_not_know_does_not_stop_the_worker(
    database_url: str, emu: StripeEmulator, plan_prices: dict[str, str]
) -> None:
    with start_tuco(database_url, emu, plan_prices) as first:
        first.workspace("org_old_account").add_on()  # its invoice lives in this account only
    with (  # the service moves to another Stripe account; the sweep meets an unknown invoice
        StripeEmulator(webhook_secret=SECRET, api_key=API_KEY) as other_account,
        start_tuco(database_url, other_account, plan_prices, TUCO_RECONCILE_SECONDS="0") as tuco,
    ):
        ws = tuco.workspace("org_new_account", Plan.GROWTH)
        r = ws.request_line({"requestedChannelType": "phone", "firstName": "A", "lastName": "B"})
        assert r.status_code == 201, r.text
        ws.wait_for(r.json()["line"]["_id"], "active", timeout=10)
