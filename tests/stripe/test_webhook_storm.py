"""A webhook storm: every Stripe event delivered three times in a shuffled order while 100 forged
or stale deliveries hit the endpoint. Forgeries are refused with 400 invalid_signature and
recorded nowhere; every request ends in its right state with its payment matched exactly once
(SPEC §4 webhooks, §6 invariant 6)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from domain.enums import Plan
from tests.stripe.helpers import Tuco, Workspace, refunds_for_invoice
from tests.support.stripe_emulator import StripeEmulator

SEED = 20_240_611
HANDLED_TYPES = {
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
}
FORGERY_KINDS = ("wrong secret", "tampered body", "stale timestamp", "missing", "garbage")


@dataclass
class Forgery:
    kind: str
    event_id: str
    payload: bytes
    signature: str | None


def sign_with(secret: str, payload: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def forge(emu: StripeEmulator, kind: str, genuine: dict[str, Any], n: int) -> Forgery:
    """A copy of a genuine event under a new id, delivered with a bad or stale signature."""
    event_id = f"evt_forged_{n}"
    payload = json.dumps(genuine | {"id": event_id}).encode()
    now = int(time.time())
    if kind == "wrong secret":
        return Forgery(kind, event_id, payload, sign_with("whsec_not_ours", payload, now))
    if kind == "tampered body":
        signature = emu.sign(payload)
        tampered = json.loads(payload)
        tampered["data"]["object"]["amount_paid"] = 1
        return Forgery(kind, event_id, json.dumps(tampered).encode(), signature)
    if kind == "stale timestamp":
        return Forgery(kind, event_id, payload, emu.sign(payload, now - 3600))
    if kind == "missing":
        return Forgery(kind, event_id, payload, None)
    garbage = ["garbage", "t=,v1=", f"t={now}", f"v1={'0' * 64}", f"t=soon,v1={'a' * 64}", ""]
    return Forgery(kind, event_id, payload, garbage[n % len(garbage)])


def forgeries(emu: StripeEmulator, count: int = 100) -> list[Forgery]:
    genuine = emu.events
    return [
        forge(emu, FORGERY_KINDS[n % len(FORGERY_KINDS)], genuine[n % len(genuine)], n)
        for n in range(count)
    ]


@dataclass
class Scenario:
    """The requests and subscriptions the storm's events are about."""

    paid: tuple[Workspace, str]
    canceled: tuple[Workspace, str]
    paid_after_cancel: tuple[Workspace, str, str]
    voided_at_stripe: tuple[Workspace, str]
    uncollectible: tuple[Workspace, str]


def prepare(tuco: Tuco, plan_prices: dict[str, str]) -> Scenario:
    """Act at Stripe and on the API with webhooks queued instead of delivered."""
    emu = tuco.emu
    clients = [tuco.workspace(f"org_storm_{n}") for n in range(5)]
    gone = tuco.workspace("org_storm_gone", Plan.GROWTH)
    emu.auto_deliver = False
    posted = [ws.add_on() for ws in clients]
    ids = [(p["line"]["_id"], p["line"]["stripeInvoiceId"]) for p in posted]

    emu.pay_invoice(ids[0][1])
    assert clients[1].act(ids[1][0], "cancel").json()["status"] == "canceled"
    emu.set_unavailable(True)  # the cancel's void cannot reach Stripe; the customer pays
    assert clients[2].act(ids[2][0], "cancel").json()["status"] == "canceled"
    emu.pay_invoice(ids[2][1])
    emu.set_unavailable(False)
    emu.void_invoice(ids[3][1])
    emu.mark_uncollectible(ids[4][1])

    newcomer = emu.create_customer(metadata={"workspace_id": "org_storm_new"})
    sub = emu.create_subscription(newcomer["id"], plan_prices["starter"])
    emu.update_subscription(sub["id"], price_id=plan_prices["growth"])
    leaving = emu.create_customer(metadata={"workspace_id": gone.workspace_id})
    emu.delete_subscription(emu.create_subscription(leaving["id"], plan_prices["growth"])["id"])
    return Scenario(
        paid=(clients[0], ids[0][0]),
        canceled=(clients[1], ids[1][0]),
        paid_after_cancel=(clients[2], *ids[2]),
        voided_at_stripe=(clients[3], ids[3][0]),
        uncollectible=(clients[4], ids[4][0]),
    )


def post_forgery(tuco: Tuco, forgery: Forgery) -> httpx.Response:
    return tuco.post_webhook(forgery.payload, forgery.signature)


def assert_final_states(tuco: Tuco, s: Scenario) -> None:
    ws, request_id = s.paid
    assert ws.wait_for(request_id, "active")["line"]["paymentStatus"] == "paid"
    ws, request_id = s.canceled
    assert ws.wait_for(request_id, "canceled")["line"]["paymentStatus"] == "void"
    ws, request_id, invoice_id = s.paid_after_cancel
    line = ws.wait_for_line(request_id, paymentStatus="refunded")
    assert line["provisioningStatus"] == "canceled"
    assert len(refunds_for_invoice(tuco.emu, invoice_id)) == 1
    for ws, request_id in (s.voided_at_stripe, s.uncollectible):
        ws.wait_for(request_id, "canceled")
        assert tuco.events_of(request_id, "Canceled")[0].by == "billing"
    assert tuco.plan_of("org_storm_new") == (Plan.GROWTH, True)
    assert tuco.plan_of("org_storm_gone") == (Plan.GROWTH, False)


def assert_every_stripe_payment_is_matched_once(tuco: Tuco) -> None:
    """SPEC §6.6: each paid invoice at Stripe → one request, one Paid; provisioned or refunded."""
    for invoice in tuco.emu.objects("invoice").values():
        request_id = invoice["metadata"].get("line_request_id")
        if invoice["status"] != "paid" or request_id is None:
            continue
        paid = tuco.events_of(request_id, "Paid")
        assert [p.invoice_id for p in paid] == [invoice["id"]], request_id
        counts = tuco.event_counts(request_id)
        provisioned = counts["ProvisioningStarted"] == 1 and counts["Refunded"] == 0
        refunded = counts["Refunded"] == 1 and counts["ProvisioningStarted"] == 0
        assert provisioned != refunded, counts
        assert len(refunds_for_invoice(tuco.emu, invoice["id"])) == counts["Refunded"]


def test_a_storm_of_duplicated_shuffled_and_forged_webhooks_settles_every_request_once(
    tuco: Tuco, plan_prices: dict[str, str]
) -> None:
    s = prepare(tuco, plan_prices)
    forged = forgeries(tuco.emu)
    genuine = tuco.emu.pending_events()
    assert {e["type"] for e in genuine} >= HANDLED_TYPES

    with ThreadPoolExecutor(4) as pool:
        forged_answers = pool.map(lambda f: post_forgery(tuco, f), forged)
        statuses = tuco.emu.deliver(genuine, times=3, shuffle=True, seed=SEED)
        refused = list(forged_answers)

    assert statuses == [200] * len(genuine) * 3
    assert [(r.status_code, r.json()["error"]["code"]) for r in refused] == [
        (400, "invalid_signature")
    ] * len(forged)
    assert not tuco.handled_webhook_ids() & {f.event_id for f in forged}

    assert_final_states(tuco, s)

    late = tuco.emu.deliver(times=3, shuffle=True, seed=SEED)  # caused by the service itself
    assert late == [200] * len(late)
    assert len(tuco.emu.objects("refund")) == 1
    assert_every_stripe_payment_is_matched_once(tuco)
    for ws in tuco.workspaces:
        for line in ws.http.get("/api/lines/by-user").json()["lines"]:
            counts = tuco.event_counts(line["_id"])
            assert counts["Paid"] <= 1 and counts["Refunded"] <= 1, counts
