"""Webhook events on the wire: serialisation, Stripe-Signature signing, delivery with httpx,
delivered/pending bookkeeping, and a background worker for events created by API requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import random
import threading
import time
from typing import Any

import httpx

Event = dict[str, Any]

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


class WebhookDispatcher:
    """Signs and POSTs events to `url`; an event stays pending until a 2xx answer."""

    def __init__(self, secret: str, timeout: float = 5.0) -> None:
        self.secret = secret
        self.url: str | None = None
        self.auto_deliver = True
        self.timeout = timeout
        self.attempts: list[dict[str, Any]] = []
        self._bodies: dict[str, bytes] = {}
        self._delivered: set[str] = set()
        self._busy = 0
        self._cond = threading.Condition()
        self._queue: queue.Queue[list[Event] | None] = queue.Queue()
        self._http: httpx.Client | None = None  # created on first use (it costs ~70 ms)
        self._worker = threading.Thread(
            target=self._run, name="stripe-emulator-webhooks", daemon=True
        )
        self._worker.start()

    def body(self, event: Event) -> bytes:
        """The exact bytes POSTed for `event` (pretty-printed JSON, like Stripe's), fixed at the
        first call so duplicate deliveries are byte-identical."""
        with self._cond:
            if event["id"] not in self._bodies:
                self._bodies[event["id"]] = json.dumps(event, indent=2).encode("utf-8")
            return self._bodies[event["id"]]

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed by the secret>`."""
        t = int(time.time()) if timestamp is None else int(timestamp)
        mac = hmac.new(self.secret.encode("utf-8"), f"{t}.".encode() + payload, hashlib.sha256)
        return f"t={t},v1={mac.hexdigest()}"

    def is_delivered(self, event_id: str) -> bool:
        """Whether some delivery of this event got a 2xx answer."""
        with self._cond:
            return event_id in self._delivered

    def post(self, event: Event) -> int:
        """One delivery attempt. Returns the HTTP status, or 0 when no response came back
        (connection refused, timeout). A 2xx marks the event delivered."""
        url = self.url
        if url is None:
            raise RuntimeError("webhook_url is not set: nowhere to deliver events")
        payload = self.body(event)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": self.sign(payload),
            "User-Agent": USER_AGENT,
            "Cache-Control": "no-cache",
        }
        error: str | None = None
        try:
            response = self._client().post(
                url, content=payload, headers=headers, timeout=self.timeout
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            status, error = 0, f"{type(exc).__name__}: {exc}"
        with self._cond:
            if 200 <= status < 300:
                self._delivered.add(event["id"])
            self.attempts.append(
                {
                    "event_id": event["id"],
                    "type": event["type"],
                    "url": url,
                    "status": status,
                    "error": error,
                    "at": time.time(),
                }
            )
        return status

    def deliver(
        self, events: list[Event], times: int = 1, shuffle: bool = False, seed: int | None = None
    ) -> list[int]:
        """POST each event `times` times (optionally in a shuffled order), in this thread."""
        if times < 1:
            raise ValueError("times must be at least 1")
        batch = [event for event in events for _ in range(times)]
        if shuffle:
            random.Random(seed).shuffle(batch)
        with self._cond:
            self._busy += 1
        try:
            return [self.post(event) for event in batch]
        finally:
            self._settle()

    def hold(self) -> None:
        """Announce a `submit` to come, so `wait_idle` already waits for it (the server holds
        while it still owns the lock the events were created under, and submits once the API
        response is written)."""
        with self._cond:
            self._busy += 1

    def submit(self, events: list[Event]) -> None:
        """Deliver in the background worker; pairs with an earlier `hold()`."""
        self._queue.put(events)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no delivery is running or queued; False if `timeout` ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._busy == 0, timeout)

    def close(self) -> None:
        """Stop the worker (queued deliveries are finished first)."""
        self._queue.put(None)
        self._worker.join(timeout=self.timeout * 2 + 5)
        with self._cond:
            if self._http is not None:
                self._http.close()

    def _client(self) -> httpx.Client:
        with self._cond:
            if self._http is None:
                self._http = httpx.Client(timeout=self.timeout, trust_env=False)
            return self._http

    def _settle(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            events = self._queue.get()
            if events is None:
                return
            try:
                for event in events:
                    if self.url is not None and not self.is_delivered(event["id"]):
                        self.post(event)
            except RuntimeError:  # webhook_url was unset meanwhile: the events stay pending
                pass
            finally:
                self._settle()
