"""`StripeEmulator`: the public face of the test-support Stripe API emulator."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from . import invoices, payments
from .server import EmulatorHTTPServer, StripeApi
from .store import Obj, Store, kind_name
from .webhooks import WebhookDispatcher


class StripeEmulator:
    """A Stripe-compatible HTTP API on 127.0.0.1 for tests driving the real `stripe` SDK.

    Use it as a context manager; point the SDK at `base_url`
    (`stripe.StripeClient(api_key, base_addresses={"api": emu.base_url}, max_network_retries=0)`).
    Events are POSTed, signed like Stripe's, to `webhook_url`. Events created by a method of this
    class (dashboard-like actions) are delivered before the method returns; events created by an
    API request are delivered by a background worker right after the API response is written
    (`wait_for_deliveries()` waits for them; `pending_events()` and `deliver()` do so too).
    Methods given an unknown id or an invalid transition raise `EmulatedStripeError`.
    """

    def __init__(
        self,
        webhook_secret: str = "whsec_test",
        api_key: str = "sk_test_emulator",
        *,
        clock: Callable[[], float] = time.time,
        delivery_timeout: float = 5.0,
    ) -> None:
        """`clock` stamps objects (`created`, `due_date`, ...); signatures always use real time,
        as the SDK checks them against it. `delivery_timeout` bounds each webhook POST."""
        self.webhook_secret = webhook_secret
        self.api_key = api_key
        self._store = Store(clock)
        self._webhooks = WebhookDispatcher(webhook_secret, delivery_timeout)
        self._api = StripeApi(self._store, api_key, self._webhooks)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> StripeEmulator:
        """Start serving on a free port of 127.0.0.1 (sets `base_url`)."""
        if self._server is not None:
            return self
        self._server = EmulatorHTTPServer(self._api)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self._store.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-emulator-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket, and stop the webhook worker."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        self._webhooks.close()

    def __enter__(self) -> StripeEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- webhook settings -----------------------------------------------------------------------

    @property
    def webhook_url(self) -> str | None:
        """Where events are POSTed; None means events are only recorded."""
        return self._webhooks.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self._webhooks.url = url

    @property
    def auto_deliver(self) -> bool:
        """True (default): deliver each event as it is created. False: queue them for
        `deliver()`. Switching it back on does not flush what is already pending."""
        return self._webhooks.auto_deliver

    @auto_deliver.setter
    def auto_deliver(self, value: bool) -> None:
        self._webhooks.auto_deliver = value

    # -- dashboard-like actions -----------------------------------------------------------------

    def _act(self, action: Callable[[], Obj]) -> dict[str, Any]:
        with self._store.lock:
            first = len(self._store.tables["event"])
            result = copy.deepcopy(action())
            events = copy.deepcopy(self._store.events()[first:])
            deliver = self._webhooks.auto_deliver and self._webhooks.url is not None
        if events and deliver:
            self._webhooks.deliver(events)
        return result

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """The customer pays an open (or uncollectible) invoice by card: creates a succeeded
        payment_intent + charge and an invoice_payment; emits invoice.paid then
        invoice.payment_succeeded. Returns the paid invoice."""
        return self._act(lambda: payments.pay_with_card(self._store, invoice_id))

    def void_invoice(self, invoice_id: str) -> dict[str, Any]:
        """Void an open or uncollectible invoice, as from the dashboard; emits invoice.voided."""
        return self._act(lambda: invoices.void(self._store, invoice_id))

    def mark_uncollectible(self, invoice_id: str) -> dict[str, Any]:
        """open -> uncollectible; emits invoice.marked_uncollectible."""
        return self._act(lambda: invoices.mark_uncollectible(self._store, invoice_id))

    def create_customer(
        self,
        name: str | None = None,
        email: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A customer created outside the SDK (no event)."""
        return self._act(
            lambda: self._store.create_customer(name=name, email=email, metadata=metadata)
        )

    def create_price(
        self,
        unit_amount: int,
        currency: str = "usd",
        recurring: bool = True,
        *,
        interval: str = "month",
        nickname: str | None = None,
        metadata: dict[str, str] | None = None,
        product_name: str = "Tuco Lines plan",
    ) -> dict[str, Any]:
        """A price (monthly by default, one-time with `recurring=False`) and its product."""
        return self._act(
            lambda: self._store.create_price(
                unit_amount=unit_amount,
                currency=currency,
                interval=interval if recurring else None,
                nickname=nickname,
                metadata=metadata,
                product_name=product_name,
            )
        )

    def create_subscription(
        self,
        customer_id: str,
        price_id: str,
        status: str = "active",
        *,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Subscribe a customer to a recurring price; emits customer.subscription.created."""
        return self._act(
            lambda: self._store.create_subscription(customer_id, price_id, status, metadata)
        )

    def update_subscription(
        self, sub_id: str, price_id: str | None = None, status: str | None = None
    ) -> dict[str, Any]:
        """Change the price and/or status; emits customer.subscription.updated (with
        `data.previous_attributes`)."""
        return self._act(lambda: self._store.update_subscription(sub_id, price_id, status))

    def delete_subscription(self, sub_id: str) -> dict[str, Any]:
        """Cancel now (status canceled); emits customer.subscription.deleted."""
        return self._act(lambda: self._store.cancel_subscription(sub_id))

    # -- events and delivery --------------------------------------------------------------------

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event created so far, oldest first (copies)."""
        with self._store.lock:
            return copy.deepcopy(self._store.events())

    def pending_events(self) -> list[dict[str, Any]]:
        """Events no delivery has succeeded for yet. Waits (up to 30 s) for background
        deliveries to settle first, so do not call it from inside a webhook handler."""
        self.wait_for_deliveries()
        return [e for e in self.events if not self._webhooks.is_delivered(e["id"])]

    def deliver(
        self,
        events: list[dict[str, Any]] | None = None,
        times: int = 1,
        shuffle: bool = False,
        seed: int | None = None,
    ) -> list[int]:
        """POST `events` (event dicts or ids; default: the pending ones) `times` times each,
        shuffled with `random.Random(seed)` if asked. Returns the HTTP statuses in sending order
        (0 = no response: connection error or timeout). A 2xx marks an event delivered."""
        chosen = self.pending_events() if events is None else events
        with self._store.lock:
            table = self._store.tables["event"]
            resolved = [copy.deepcopy(table[e if isinstance(e, str) else e["id"]]) for e in chosen]
        return self._webhooks.deliver(resolved, times=times, shuffle=shuffle, seed=seed)

    def wait_for_deliveries(self, timeout: float = 30.0) -> bool:
        """Wait until background deliveries are done; False if `timeout` ran out."""
        return self._webhooks.wait_idle(timeout)

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempt: event_id, type, url, status (0 = no response), error, at."""
        return copy.deepcopy(self._webhooks.attempts)

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        """The Stripe-Signature header for `payload`: `t=<ts>,v1=<hex hmac-sha256>`."""
        return self._webhooks.sign(payload, timestamp)

    # -- inspection and fault injection ---------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """API request log: method, path, params (decoded), idempotency_key, status, replayed,
        request_id, stripe_version."""
        return self._api.request_log()

    def expire_idempotency_keys(self) -> None:
        """Forget every idempotency key, as Stripe does 24 hours after a key's first use: a
        request repeated with an old key is executed again."""
        self._api.expire_idempotency_keys()

    def set_unavailable(self, unavailable: bool = True) -> None:
        """While True, every /v1 call answers 503 with a Stripe `api_error` body."""
        self._api.unavailable = unavailable

    def objects(self, kind: str) -> dict[str, dict[str, Any]]:
        """Copies of every object of a kind, by id: "customer", "invoice", "invoiceitem",
        "price", "product", "subscription", "payment_intent", "charge", "invoice_payment",
        "refund", "event"."""
        with self._store.lock:
            return copy.deepcopy(self._store.tables[kind_name(kind)])
