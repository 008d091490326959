"""Invoices and invoice items with Stripe's status rules:

draft -> open (finalize) -> paid | void | uncollectible; uncollectible -> paid | void.
Anything else is a 400 `invalid_request_error`. Callers hold `store.lock`."""

from __future__ import annotations

from . import invoice_objects
from .errors import invalid_param, invalid_state, missing_param
from .params import Params, metadata, one_of, optional_bool, optional_int, optional_str, required
from .payments import mark_paid, pay_with_card, require_status
from .store import Obj, Store

DAY = 86_400


def create_invoice(store: Store, params: Params) -> Obj:
    """POST /v1/invoices: a draft invoice (pending items pulled in only with `include`)."""
    customer = store.get("customer", required(params, "customer"), "customer")
    method = one_of(
        params,
        "collection_method",
        ("charge_automatically", "send_invoice"),
        "charge_automatically",
    )
    days = optional_int(params, "days_until_due", minimum=0)
    due_date = optional_int(params, "due_date")
    if method == "charge_automatically" and (days is not None or due_date is not None):
        param = "days_until_due" if days is not None else "due_date"
        raise invalid_param(
            param, f"Invoices with collection_method=charge_automatically cannot set {param}."
        )
    created = store.now()
    if method == "send_invoice" and due_date is None:
        days = 30 if days is None else days
        due_date = created + days * DAY
    inv = store.add(
        "invoice",
        invoice_objects.invoice(
            created=created,
            customer=customer,
            currency=(optional_str(params, "currency") or customer["currency"] or "usd").lower(),
            collection_method=method or "charge_automatically",
            due_date=due_date,
            auto_advance=bool(optional_bool(params, "auto_advance")),
            description=optional_str(params, "description"),
            metadata=metadata(params),
            footer=optional_str(params, "footer"),
        ),
    )
    store.extras[inv["id"]] = {"days_until_due": days, "explicit_due_date": "due_date" in params}
    behavior = one_of(params, "pending_invoice_items_behavior", ("exclude", "include"), "exclude")
    if behavior == "include":
        for item in store.tables["invoiceitem"].values():
            if item["customer"] == customer["id"] and item["invoice"] is None:
                _attach(inv, item)
    return inv


def _attach(inv: Obj, item: Obj) -> None:
    item["invoice"] = inv["id"]
    inv["lines"]["data"].append(invoice_objects.line_item(item, inv["id"]))
    invoice_objects.recompute_totals(inv)


def create_invoice_item(store: Store, params: Params) -> Obj:
    """POST /v1/invoiceitems: an item on a draft invoice (or pending, without `invoice`)."""
    customer = store.get("customer", required(params, "customer"), "customer")
    invoice_id = optional_str(params, "invoice")
    inv = store.get("invoice", invoice_id, "invoice") if invoice_id else None
    if inv is not None:
        if inv["customer"] != customer["id"]:
            raise invalid_param(
                "invoice",
                f"The invoice {inv['id']} belongs to customer {inv['customer']}, "
                f"not {customer['id']}.",
            )
        if inv["status"] != "draft":
            raise invalid_state(
                f"Invoice {inv['id']} is no longer editable: invoice items can only be added "
                "to draft invoices.",
                code="invoice_not_editable",
            )
    quantity = optional_int(params, "quantity", minimum=0)
    quantity = 1 if quantity is None else quantity
    pricing, price_data = params.get("pricing"), params.get("price_data")
    price_obj = None
    if isinstance(pricing, dict) and pricing.get("price"):
        price_obj = store.get("price", str(pricing["price"]), "pricing[price]")
        amount, currency = price_obj["unit_amount"] * quantity, price_obj["currency"]
    elif isinstance(price_data, dict):
        unit = optional_int(price_data, "unit_amount")
        if unit is None:
            raise missing_param("price_data[unit_amount]")
        amount, currency = unit * quantity, required(price_data, "currency")
    else:
        given = optional_int(params, "amount")
        if given is None:
            raise missing_param("amount")
        amount = given
        currency = optional_str(params, "currency") or (inv["currency"] if inv else "usd")
    currency = currency.lower()
    if inv is not None and currency != inv["currency"]:
        raise invalid_param(
            "currency",
            f"The currency of this invoice item ({currency}) does not match the currency of "
            f"the invoice ({inv['currency']}).",
        )
    description = optional_str(params, "description")
    if description is None and price_obj is not None:
        description = store.get("product", price_obj["product"])["name"]
    now = store.now()
    item = store.add(
        "invoiceitem",
        invoice_objects.invoiceitem(
            created=now,
            customer_id=customer["id"],
            invoice_id=None,
            amount=amount,
            currency=currency,
            quantity=quantity,
            description=description,
            metadata=metadata(params),
            price_obj=price_obj,
            period={"end": now, "start": now},
        ),
    )
    if inv is not None:
        _attach(inv, item)
    return item


def finalize(store: Store, invoice_id: str, auto_advance: bool | None = None) -> Obj:
    """draft -> open: number, hosted_invoice_url, invoice_pdf, due_date. A zero-amount invoice
    is marked paid straight away, as Stripe does. Emits invoice.finalized."""
    inv = store.get("invoice", invoice_id)
    if inv["status"] != "draft":
        raise invalid_state(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice."
        )
    customer = store.get("customer", inv["customer"])
    now = store.now()
    inv["number"] = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
    customer["next_invoice_sequence"] += 1
    inv["status"] = "open"
    inv["status_transitions"]["finalized_at"] = inv["effective_at"] = now
    inv["hosted_invoice_url"] = f"{store.base_url}/hosted/{inv['id']}"
    inv["invoice_pdf"] = f"{store.base_url}/hosted/{inv['id']}/pdf"
    inv["automatically_finalizes_at"] = None
    if auto_advance is not None:
        inv["auto_advance"] = auto_advance
    extras = store.extras.get(inv["id"], {})
    if inv["collection_method"] == "send_invoice" and not extras.get("explicit_due_date"):
        inv["due_date"] = now + (extras.get("days_until_due") or 30) * DAY
    elif inv["auto_advance"]:
        inv["next_payment_attempt"] = now + 3600
    store.emit("invoice.finalized", inv)
    if inv["amount_due"] == 0:
        mark_paid(store, inv, now)
    return inv


def void(store: Store, invoice_id: str) -> Obj:
    """open | uncollectible -> void; emits invoice.voided."""
    inv = store.get("invoice", invoice_id)
    require_status(inv, "void", ("open", "uncollectible"))
    inv["status"] = "void"
    inv["status_transitions"]["voided_at"] = store.now()
    inv["next_payment_attempt"] = None
    store.emit("invoice.voided", inv)
    return inv


def mark_uncollectible(store: Store, invoice_id: str) -> Obj:
    """open -> uncollectible; emits invoice.marked_uncollectible."""
    inv = store.get("invoice", invoice_id)
    require_status(inv, "mark uncollectible", ("open",))
    inv["status"] = "uncollectible"
    inv["status_transitions"]["marked_uncollectible_at"] = store.now()
    inv["next_payment_attempt"] = None
    store.emit("invoice.marked_uncollectible", inv)
    return inv


def pay(store: Store, invoice_id: str, params: Params) -> Obj:
    """POST /v1/invoices/{id}/pay. `paid_out_of_band=true` records an off-Stripe payment (emits
    invoice.paid); `payment_method=pm_...` charges a card (see `pay_with_card`); with neither,
    the request is refused, as the emulated customers have no default payment method. A draft
    is finalized first, as Stripe does."""
    inv = store.get("invoice", invoice_id)
    out_of_band = bool(optional_bool(params, "paid_out_of_band"))
    payment_method = optional_str(params, "payment_method")
    if inv["status"] in ("open", "uncollectible", "draft") and not (out_of_band or payment_method):
        raise invalid_state(
            "This customer has no attached payment source or default payment method. Please "
            "consider adding a default payment method."
        )
    if inv["status"] == "draft":
        finalize(store, invoice_id)
        if inv["status"] == "paid":
            return inv
    require_status(inv, "pay", ("open", "uncollectible"))
    if payment_method:
        return pay_with_card(store, invoice_id, payment_method)
    now = store.now()
    inv["amount_paid_off_stripe"] = inv["amount_remaining"]
    inv["amount_paid"] += inv["amount_remaining"]
    mark_paid(store, inv, now)
    return inv


def delete_draft(store: Store, invoice_id: str) -> Obj:
    """DELETE /v1/invoices/{id}: only drafts can be deleted; their items become pending."""
    inv = store.get("invoice", invoice_id)
    if inv["status"] != "draft":
        raise invalid_state("You can only delete draft invoices.")
    for item in store.tables["invoiceitem"].values():
        if item["invoice"] == inv["id"]:
            item["invoice"] = None
    del store.tables["invoice"][inv["id"]]
    store.emit("invoice.deleted", inv)
    return {"id": inv["id"], "object": "invoice", "deleted": True}
