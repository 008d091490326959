"""/v1 endpoints for payment intents, charges, refunds, subscriptions, prices, products and
events."""

from __future__ import annotations

from . import payments
from .params import Params, optional_str
from .registry import filtered, route
from .store import Obj, Store

# -- payments and refunds ------------------------------------------------------------------------


@route("GET", "/payment_intents/{id}")
def get_payment_intent(store: Store, params: Params, intent_id: str) -> Obj:
    return store.get("payment_intent", intent_id)


@route("GET", "/charges/{id}")
def get_charge(store: Store, params: Params, charge_id: str) -> Obj:
    return store.get("charge", charge_id)


@route("POST", "/refunds")
def create_refund(store: Store, params: Params) -> Obj:
    return payments.create_refund(store, params)


@route("GET", "/refunds/{id}")
def get_refund(store: Store, params: Params, refund_id: str) -> Obj:
    return store.get("refund", refund_id)


@route("GET", "/refunds")
def list_refunds(store: Store, params: Params) -> Obj:
    return filtered(
        store,
        "refund",
        params,
        "/v1/refunds",
        charge=params.get("charge"),
        payment_intent=params.get("payment_intent"),
    )


# -- subscriptions, prices, products, events -----------------------------------------------------


@route("GET", "/subscriptions/{id}")
def get_subscription(store: Store, params: Params, sub_id: str) -> Obj:
    return store.get("subscription", sub_id)


@route("DELETE", "/subscriptions/{id}")
def cancel_subscription(store: Store, params: Params, sub_id: str) -> Obj:
    return store.cancel_subscription(sub_id)


@route("GET", "/subscriptions")
def list_subscriptions(store: Store, params: Params) -> Obj:
    status = optional_str(params, "status")
    items = [
        sub
        for sub in store.tables["subscription"].values()
        if params.get("customer") in (None, sub["customer"])
        and (
            status == "all"
            or sub["status"] == status
            or (status is None and sub["status"] != "canceled")
        )
    ]
    return store.page(items, params, "/v1/subscriptions")


@route("GET", "/prices/{id}")
def get_price(store: Store, params: Params, price_id: str) -> Obj:
    return store.get("price", price_id)


@route("GET", "/products/{id}")
def get_product(store: Store, params: Params, product_id: str) -> Obj:
    return store.get("product", product_id)


@route("GET", "/events/{id}")
def get_event(store: Store, params: Params, event_id: str) -> Obj:
    return store.get("event", event_id)


@route("GET", "/events")
def list_events(store: Store, params: Params) -> Obj:
    return filtered(store, "event", params, "/v1/events", type=params.get("type"))
