"""Fixtures for the Stripe emulator's own tests: a running emulator, a real `stripe` SDK client
pointed at it, and a tiny webhook receiver that verifies signatures with the SDK."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from tests.support.stripe_emulator import StripeEmulator

SECRET = "whsec_test"
API_KEY = "sk_test_emulator"


def sdk_client(emu: StripeEmulator, api_key: str = API_KEY) -> stripe.StripeClient:
    """The real SDK client, aimed at the emulator, with no retries."""
    return stripe.StripeClient(api_key, base_addresses={"api": emu.base_url}, max_network_retries=0)


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 that checks every delivery with
    `stripe.Webhook.construct_event` and records what it got.

    `statuses` lists the HTTP statuses to answer with, one per delivery (then `default_status`).
    """

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []  # verified events, in arrival order
        self.rejected: list[str] = []  # signature verification failures
        self.raw: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.default_status = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._record(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/webhooks/stripe"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.raw.append((headers, body))
            try:
                event = stripe.Webhook.construct_event(
                    body, headers.get("Stripe-Signature"), self.secret
                )
            except stripe.SignatureVerificationError as exc:
                self.rejected.append(str(exc))
                return 400
            self.received.append(json.loads(body))
            assert event.id == self.received[-1]["id"]
            return self.statuses.pop(0) if self.statuses else self.default_status

    @property
    def types(self) -> list[str]:
        """Types of the verified events, in arrival order."""
        with self._lock:
            return [event["type"] for event in self.received]

    def close(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    with StripeEmulator(webhook_secret=SECRET, api_key=API_KEY) as emulator:
        yield emulator


@pytest.fixture
def client(emu: StripeEmulator) -> stripe.StripeClient:
    return sdk_client(emu)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    endpoint = WebhookReceiver()
    yield endpoint
    endpoint.close()


def open_invoice(
    client: stripe.StripeClient, amount: int = 1500, metadata: dict[str, str] | None = None
) -> stripe.Invoice:
    """customer -> draft send_invoice invoice -> one item -> finalized (open)."""
    customer = client.v1.customers.create(
        params={
            "name": "Acme Inc",
            "email": "billing@acme.test",
            "metadata": {"workspace_id": "w1"},
        }
    )
    invoice = client.v1.invoices.create(
        params={
            "customer": customer.id,
            "collection_method": "send_invoice",
            "days_until_due": 7,
            "auto_advance": False,
            "pending_invoice_items_behavior": "exclude",
            "description": "Extra email line",
            "metadata": metadata or {"line_request_id": "lr_1"},
        }
    )
    client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "invoice": invoice.id,
            "amount": amount,
            "currency": "usd",
            "description": "Email line add-on",
        }
    )
    return client.v1.invoices.finalize_invoice(invoice.id, params={"auto_advance": False})
