"""Payments on invoices (card payments with their payment intent, charge and invoice_payment)
and refunds, plus the status checks shared with `invoices`. Callers hold `store.lock`."""

from __future__ import annotations

import copy
from typing import Any

from . import payment_objects
from .errors import invalid_param, invalid_state, missing_param
from .objects import new_id
from .params import Params, metadata, one_of, optional_int, optional_str
from .store import Obj, Store


def mark_paid(store: Store, inv: Obj, now: int) -> None:
    inv["status"] = "paid"
    inv["status_transitions"]["paid_at"] = now
    inv["amount_remaining"] = 0
    inv["next_payment_attempt"] = None
    store.emit("invoice.paid", inv)


def require_status(inv: Obj, action: str, allowed: tuple[str, ...]) -> None:
    if inv["status"] in allowed:
        return
    if inv["status"] == "paid" and action == "pay":
        raise invalid_state("Invoice is already paid")
    raise invalid_state(
        f"You can only {action} an invoice whose status is {' or '.join(allowed)}; "
        f"invoice {inv['id']} is {inv['status']}."
    )


def pay_with_card(store: Store, invoice_id: str, payment_method: str | None = None) -> Obj:
    """The customer pays the open (or uncollectible) invoice by card: a succeeded payment intent
    and charge, an invoice_payment, and events invoice.paid then invoice.payment_succeeded."""
    inv = store.get("invoice", invoice_id)
    require_status(inv, "pay", ("open", "uncollectible"))
    customer = store.get("customer", inv["customer"])
    now, amount = store.now(), inv["amount_remaining"]
    intent = store.add(
        "payment_intent",
        payment_objects.payment_intent(
            created=now,
            amount=amount,
            currency=inv["currency"],
            customer_id=customer["id"],
            description="Payment for Invoice",
            payment_method=payment_method or new_id("pm"),
        ),
    )
    charge = store.add(
        "charge",
        payment_objects.charge(
            created=now, intent=intent, customer=customer, base_url=store.base_url
        ),
    )
    intent["latest_charge"] = charge["id"]
    store.add(
        "invoice_payment",
        payment_objects.invoice_payment(
            created=now,
            invoice_id=inv["id"],
            amount=amount,
            currency=inv["currency"],
            intent_id=intent["id"],
        ),
    )
    inv["amount_paid"] += amount
    inv["attempted"] = True
    inv["attempt_count"] += 1
    mark_paid(store, inv, now)
    store.emit("invoice.payment_succeeded", inv)
    return inv


def _money(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency)
    return f"{symbol}{amount / 100:.2f}" if symbol else f"{amount / 100:.2f} {currency.upper()}"


def create_refund(store: Store, params: Params) -> Obj:
    """POST /v1/refunds on a payment intent or a charge; emits charge.refunded."""
    intent_id, charge_id = optional_str(params, "payment_intent"), optional_str(params, "charge")
    if intent_id is None and charge_id is None:
        error = missing_param("payment_intent")
        error.message = (
            "One of the following params should be provided for this request: "
            "payment_intent or charge."
        )
        raise error
    if intent_id is not None:
        intent = store.get("payment_intent", intent_id, "payment_intent")
        if intent["latest_charge"] is None or (charge_id and charge_id != intent["latest_charge"]):
            raise invalid_param("payment_intent", f"PaymentIntent {intent_id} has no such charge.")
        charge_id = intent["latest_charge"]
    charge = store.get("charge", str(charge_id), "charge")
    remaining = charge["amount"] - charge["amount_refunded"]
    amount = optional_int(params, "amount", minimum=1)
    if remaining <= 0:
        raise invalid_state(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    if amount is not None and amount > remaining:
        error = invalid_param(
            "amount",
            f"Refund amount ({_money(amount, charge['currency'])}) is greater than unrefunded "
            f"amount on charge ({_money(remaining, charge['currency'])})",
        )
        error.code, error.replayable = None, True
        raise error
    refund = store.add(
        "refund",
        payment_objects.refund(
            created=store.now(),
            charge_obj=charge,
            amount=remaining if amount is None else amount,
            reason=one_of(
                params, "reason", ("duplicate", "fraudulent", "requested_by_customer"), None
            ),
            metadata=metadata(params),
        ),
    )
    charge["amount_refunded"] += refund["amount"]
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
    store.emit("charge.refunded", charge)
    return refund


def invoice_payments_for(store: Store, invoice_id: str) -> list[dict[str, Any]]:
    """The invoice_payment objects of one invoice, oldest first."""
    return [p for p in store.tables["invoice_payment"].values() if p["invoice"] == invoice_id]
