"""/v1 endpoints for customers, invoices, invoice items and invoice payments."""

from __future__ import annotations

from . import invoices
from .errors import EmulatedStripeError
from .params import Params, metadata, optional_bool, optional_str
from .registry import filtered, route
from .store import Obj, Store

# -- customers -----------------------------------------------------------------------------------


@route("POST", "/customers")
def create_customer(store: Store, params: Params) -> Obj:
    return store.create_customer(
        name=optional_str(params, "name"),
        email=optional_str(params, "email"),
        description=optional_str(params, "description"),
        phone=optional_str(params, "phone"),
        metadata=metadata(params),
    )


@route("GET", "/customers/{id}")
def get_customer(store: Store, params: Params, customer_id: str) -> Obj:
    return store.get("customer", customer_id)


@route("POST", "/customers/{id}")
def update_customer(store: Store, params: Params, customer_id: str) -> Obj:
    customer = store.get("customer", customer_id)
    for name in ("name", "email", "description", "phone"):
        if name in params:
            customer[name] = optional_str(params, name)
    customer["metadata"] = metadata(params, customer["metadata"])
    return customer


@route("GET", "/customers")
def list_customers(store: Store, params: Params) -> Obj:
    return filtered(store, "customer", params, "/v1/customers", email=params.get("email"))


# -- invoices and invoice items ------------------------------------------------------------------


@route("POST", "/invoices")
def create_invoice(store: Store, params: Params) -> Obj:
    return invoices.create_invoice(store, params)


@route("GET", "/invoices")
def list_invoices(store: Store, params: Params) -> Obj:
    return filtered(
        store,
        "invoice",
        params,
        "/v1/invoices",
        customer=params.get("customer"),
        status=params.get("status"),
        collection_method=params.get("collection_method"),
        subscription=params.get("subscription"),
    )


@route("GET", "/invoices/{id}")
def get_invoice(store: Store, params: Params, invoice_id: str) -> Obj:
    return store.get("invoice", invoice_id)


@route("POST", "/invoices/{id}")
def update_invoice(store: Store, params: Params, invoice_id: str) -> Obj:
    inv = store.get("invoice", invoice_id)
    for name in ("description", "footer"):
        if name in params:
            inv[name] = optional_str(params, name)
    if "auto_advance" in params:
        inv["auto_advance"] = bool(optional_bool(params, "auto_advance"))
    inv["metadata"] = metadata(params, inv["metadata"])
    return inv


@route("DELETE", "/invoices/{id}")
def delete_invoice(store: Store, params: Params, invoice_id: str) -> Obj:
    return invoices.delete_draft(store, invoice_id)


@route("GET", "/invoices/{id}/lines")
def invoice_lines(store: Store, params: Params, invoice_id: str) -> Obj:
    lines = store.get("invoice", invoice_id)["lines"]["data"]
    return store.page(lines[::-1], params, f"/v1/invoices/{invoice_id}/lines")


@route("POST", "/invoices/{id}/finalize")
def finalize_invoice(store: Store, params: Params, invoice_id: str) -> Obj:
    return invoices.finalize(store, invoice_id, optional_bool(params, "auto_advance"))


@route("POST", "/invoices/{id}/void")
def void_invoice(store: Store, params: Params, invoice_id: str) -> Obj:
    return invoices.void(store, invoice_id)


@route("POST", "/invoices/{id}/mark_uncollectible")
def mark_uncollectible(store: Store, params: Params, invoice_id: str) -> Obj:
    return invoices.mark_uncollectible(store, invoice_id)


@route("POST", "/invoices/{id}/pay")
def pay_invoice(store: Store, params: Params, invoice_id: str) -> Obj:
    return invoices.pay(store, invoice_id, params)


@route("POST", "/invoices/{id}/send")
def send_invoice(store: Store, params: Params, invoice_id: str) -> Obj:
    inv = store.get("invoice", invoice_id)
    if inv["status"] != "open" or inv["collection_method"] != "send_invoice":
        raise EmulatedStripeError(
            "You can only send open invoices with collection_method send_invoice."
        )
    return inv


@route("POST", "/invoiceitems")
def create_invoice_item(store: Store, params: Params) -> Obj:
    return invoices.create_invoice_item(store, params)


@route("GET", "/invoiceitems/{id}")
def get_invoice_item(store: Store, params: Params, item_id: str) -> Obj:
    return store.get("invoiceitem", item_id)


@route("GET", "/invoiceitems")
def list_invoice_items(store: Store, params: Params) -> Obj:
    return filtered(
        store,
        "invoiceitem",
        params,
        "/v1/invoiceitems",
        customer=params.get("customer"),
        invoice=params.get("invoice"),
    )


@route("GET", "/invoice_payments")
def list_invoice_payments(store: Store, params: Params) -> Obj:
    given = params.get("payment")
    payment: Params = given if isinstance(given, dict) else {}
    return filtered(
        store,
        "invoice_payment",
        params,
        "/v1/invoice_payments",
        invoice=params.get("invoice"),
        status=params.get("status"),
        payment__type=payment.get("type"),
        payment__payment_intent=payment.get("payment_intent"),
    )


@route("GET", "/invoice_payments/{id}")
def get_invoice_payment(store: Store, params: Params, payment_id: str) -> Obj:
    return store.get("invoice_payment", payment_id)
