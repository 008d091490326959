"""The emulator's object store: one table per object kind, lookups, list pagination, event
emission, and the customer / price / subscription operations. Invoice and payment rules live in
`billing.py`. Every mutation happens with `Store.lock` held."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from . import objects, subscription_objects
from .errors import invalid_param, invalid_state, no_such
from .params import Params, optional_int, optional_str

Obj = dict[str, Any]

KINDS = (
    "customer",
    "product",
    "price",
    "subscription",
    "invoice",
    "invoiceitem",
    "payment_intent",
    "charge",
    "invoice_payment",
    "refund",
    "event",
)
SUBSCRIPTION_STATUSES = (
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
)
_ALIASES = {"invoice_item": "invoiceitem", "paymentintent": "payment_intent"}


def kind_name(kind: str) -> str:
    """Normalise a kind given by a test (`"invoice"`, `"invoices"`, `"invoice_item"`)."""
    name = _ALIASES.get(kind, kind)
    if name not in KINDS and name.endswith("s") and name[:-1] in KINDS:
        name = name[:-1]
    if name not in KINDS:
        raise KeyError(f"unknown object kind {kind!r}; known kinds: {', '.join(KINDS)}")
    return name


class Store:
    """In-memory Stripe state. Callers hold `lock` around anything that reads then writes."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.base_url = ""
        self.tables: dict[str, dict[str, Obj]] = {kind: {} for kind in KINDS}
        # (request id, idempotency key) of the API request being executed, for `event.request`.
        self.request_context: tuple[str | None, str | None] = (None, None)
        # Facts Stripe keeps but does not show on the object (e.g. an invoice's days_until_due).
        self.extras: dict[str, Obj] = {}

    def now(self) -> int:
        """Unix seconds on the emulator's clock."""
        return int(self.clock())

    # -- generic access -------------------------------------------------------------------------

    def add(self, kind: str, obj: Obj) -> Obj:
        """Store a new object under its id."""
        self.tables[kind][obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id: str, param: str = "id") -> Obj:
        """The live object, or Stripe's 404 `resource_missing`."""
        obj = self.tables[kind].get(object_id)
        if obj is None:
            raise no_such(kind, object_id, param)
        return obj

    def find(self, object_id: str) -> Obj | None:
        """Any object by id, whatever its kind (used by `expand`)."""
        for table in self.tables.values():
            if object_id in table:
                return table[object_id]
        return None

    def events(self) -> list[Obj]:
        """Every event, oldest first (live objects: copy before handing out)."""
        return list(self.tables["event"].values())

    def emit(self, type: str, obj: Obj, previous_attributes: Obj | None = None) -> Obj:
        """Record an event carrying a snapshot of `obj` as it is now."""
        request_id, idempotency_key = self.request_context
        evt = objects.event(
            created=self.now(),
            type=type,
            data_object=copy.deepcopy(obj),
            previous_attributes=copy.deepcopy(previous_attributes),
            request_id=request_id,
            idempotency_key=idempotency_key,
        )
        return self.add("event", evt)

    def page(self, items: Iterable[Obj], params: Params, url: str) -> Obj:
        """A list envelope, newest first, honouring `limit`, `starting_after`, `ending_before`."""
        ordered = list(items)[::-1]
        limit = optional_int(params, "limit", minimum=1) or 10
        if limit > 100:
            raise invalid_param("limit", "This value must be less than or equal to 100.")
        ids = [item["id"] for item in ordered]
        after, before = (
            optional_str(params, "starting_after"),
            optional_str(params, "ending_before"),
        )
        if after is not None:
            if after not in ids:
                raise no_such("object", after, "starting_after")
            ordered = ordered[ids.index(after) + 1 :]
        elif before is not None:
            if before not in ids:
                raise no_such("object", before, "ending_before")
            ordered = ordered[: ids.index(before)][-limit:]
        return objects.list_object(ordered[:limit], url, has_more=len(ordered) > limit)

    # -- customers and prices -------------------------------------------------------------------

    def create_customer(
        self,
        *,
        name: str | None,
        email: str | None,
        description: str | None = None,
        phone: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Obj:
        """A new customer."""
        return self.add(
            "customer",
            objects.customer(
                created=self.now(),
                name=name,
                email=email,
                description=description,
                phone=phone,
                metadata=dict(metadata or {}),
            ),
        )

    def create_price(
        self,
        *,
        unit_amount: int,
        currency: str,
        interval: str | None,
        nickname: str | None,
        metadata: dict[str, str] | None,
        product_name: str,
    ) -> Obj:
        """A new price, with a new product behind it."""
        if unit_amount < 0:
            raise invalid_param("unit_amount", "This value must be greater than or equal to 0.")
        product = self.add("product", objects.product(created=self.now(), name=product_name))
        price = self.add(
            "price",
            objects.price(
                created=self.now(),
                product_id=product["id"],
                unit_amount=unit_amount,
                currency=currency.lower(),
                interval=interval,
                nickname=nickname,
                metadata=dict(metadata or {}),
            ),
        )
        product["default_price"] = price["id"]
        return price

    # -- subscriptions --------------------------------------------------------------------------

    def create_subscription(
        self, customer_id: str, price_id: str, status: str, metadata: dict[str, str] | None
    ) -> Obj:
        """A subscription of `customer_id` to `price_id`; emits customer.subscription.created."""
        _check_status(status)
        self.get("customer", customer_id, "customer")
        price = self.get("price", price_id, "price")
        if price["recurring"] is None:
            raise invalid_param("price", f"The price specified ({price_id}) is not recurring.")
        sub = self.add(
            "subscription",
            subscription_objects.subscription(
                created=self.now(),
                customer_id=customer_id,
                price_obj=copy.deepcopy(price),
                status=status,
                metadata=dict(metadata or {}),
            ),
        )
        if status == "canceled":
            sub["canceled_at"] = sub["ended_at"] = self.now()
        self.emit("customer.subscription.created", sub)
        return sub

    def update_subscription(self, sub_id: str, price_id: str | None, status: str | None) -> Obj:
        """Swap the price and/or change the status; emits customer.subscription.updated with
        `data.previous_attributes` naming what changed."""
        sub = self.get("subscription", sub_id, "subscription")
        if sub["status"] == "canceled":
            raise invalid_state(
                "A canceled subscription can only update its cancellation_details and metadata."
            )
        previous: Obj = {}
        if price_id is not None:
            price = self.get("price", price_id, "price")
            previous["items"] = copy.deepcopy(sub["items"])
            previous["plan"] = copy.deepcopy(sub["items"]["data"][0]["plan"])
            item = sub["items"]["data"][0]
            item["price"] = copy.deepcopy(price)
            item["plan"] = subscription_objects.plan_from_price(price)
            sub["currency"] = price["currency"]
        if status is not None and status != sub["status"]:
            _check_status(status)
            previous["status"] = sub["status"]
            sub["status"] = status
            if status == "canceled":
                sub["canceled_at"] = sub["ended_at"] = self.now()
        self.emit("customer.subscription.updated", sub, previous)
        return sub

    def cancel_subscription(self, sub_id: str) -> Obj:
        """Cancel now; emits customer.subscription.deleted."""
        sub = self.get("subscription", sub_id, "subscription")
        if sub["status"] == "canceled":
            raise invalid_state(f"The subscription {sub_id} is already canceled.")
        sub["status"] = "canceled"
        sub["canceled_at"] = sub["ended_at"] = self.now()
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        self.emit("customer.subscription.deleted", sub)
        return sub


def _check_status(status: str) -> None:
    if status not in SUBSCRIPTION_STATUSES:
        raise invalid_param("status", f"Invalid subscription status: {status}")
