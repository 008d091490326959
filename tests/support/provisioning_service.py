"""A provisioning service for tests (SPEC §7), real HTTP on 127.0.0.1. It verifies each
order's Standard Webhooks signature (401 and counted when it does not verify), answers 202,
then calls the order's `callbackUrl` back, signed, as its mode says. It is also the line
server its `serverUrl`s point at, and records the health probes it gets.

Modes: success, failure, slow (calls back once `release()` is called), duplicate (the same
callback delivered twice, then once more under a new message id), out_of_order ("failed",
then a late "active"), silent (never calls back; polling finds the answer), down (refuses the
first `down_for` orders with 503, then behaves as success).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from adapters.signing import InvalidSignature, Signer


class Mode(Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    SLOW = "slow"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    SILENT = "silent"
    DOWN = "down"


FAILURE_REASON = "no numbers left in this area"


@dataclass
class Callback:
    url: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int


@dataclass
class State:
    orders: list[dict[str, Any]] = field(default_factory=list)
    order_headers: list[dict[str, str]] = field(default_factory=list)
    refused: int = 0  # orders answered 503 while "down"
    bad_signatures: int = 0
    polls: list[str] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


class ProvisioningService:
    def __init__(self, secret: str, mode: Mode = Mode.SUCCESS, down_for: int = 2) -> None:
        self.signer = Signer(secret)
        self.mode = mode
        self.down_for = down_for
        self.state = State()
        self.lock = threading.Lock()
        self.released = threading.Event()
        self._threads: list[threading.Thread] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.service = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._serving = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._serving.start()

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def release(self) -> None:
        """Slow mode: the provider finishes now and calls back."""
        self.released.set()

    def snapshot(self) -> State:
        with self.lock:
            return State(
                list(self.state.orders), list(self.state.order_headers), self.state.refused,
                self.state.bad_signatures, list(self.state.polls), list(self.state.probes),
                list(self.state.callbacks), dict(self.state.answers),
            )  # fmt: skip

    # --- what the provider decides ---------------------------------------------------------

    def server_url(self, order_id: str) -> str:
        return f"{self.url}/lines/{order_id}"

    def active(self, order: dict[str, Any]) -> dict[str, Any]:
        phone = order["phone"] or ("+1415555" + str(int(order["id"][-4:], 16) % 10_000).zfill(4))
        return {
            "status": "active",
            "phone": phone if order["channel"] == "phone" else None,
            "email": order["email"],
            "serverUrl": self.server_url(order["id"]),
            "providerRef": f"prov-{order['id'][:8]}",
        }

    def plan(self, order: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
        """The callbacks to send for an order: (body, message id to reuse or None)."""
        failed = {"status": "failed", "reason": FAILURE_REASON}
        if self.mode is Mode.FAILURE:
            return [(failed, None)]
        if self.mode is Mode.OUT_OF_ORDER:
            return [(failed, None), (self.active(order), None)]
        if self.mode is Mode.DUPLICATE:
            first_id = f"msg_dup_{order['id'][:8]}"
            return [(self.active(order), first_id), (self.active(order), first_id),
                    (self.active(order), None)]  # fmt: skip
        return [(self.active(order), None)]

    def accepted(self, order: dict[str, Any]) -> None:
        plan = self.plan(order)
        with self.lock:
            self.state.answers[order["id"]] = plan[-1][0]
        if self.mode is Mode.SILENT:
            return
        thread = threading.Thread(target=self._call_back, args=(order, plan), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _call_back(
        self, order: dict[str, Any], plan: list[tuple[dict[str, Any], str | None]]
    ) -> None:
        if self.mode is Mode.SLOW:
            self.released.wait(timeout=60)
        for answer, msg_id in plan:
            body = json.dumps(answer).encode()
            headers = self.signer.headers(body, msg_id=msg_id) | {
                "content-type": "application/json"
            }
            try:
                status = httpx.post(order["callbackUrl"], content=body, headers=headers,
                                    timeout=10).status_code  # fmt: skip
            except httpx.HTTPError:
                status = 0
            with self.lock:
                self.state.callbacks.append(Callback(order["callbackUrl"], answer, headers, status))

    def take_order(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            self.signer.verify(body, headers)
        except InvalidSignature:
            with self.lock:
                self.state.bad_signatures += 1
            return 401
        order = json.loads(body)
        with self.lock:
            if self.mode is Mode.DOWN and self.state.refused < self.down_for:
                self.state.refused += 1
                return 503
            known = any(o["id"] == order["id"] for o in self.state.orders)
            self.state.orders.append(order)
            self.state.order_headers.append(headers)
        if not known:  # the provider dedupes by id
            self.accepted(order)
        return 202

    def poll(self, order_id: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            self.signer.verify(b"", headers)
        except InvalidSignature:
            with self.lock:
                self.state.bad_signatures += 1
            return 401, {"error": "bad signature"}
        with self.lock:
            self.state.polls.append(order_id)
            answer = self.state.answers.get(order_id)
        if answer is None:
            return 404, {"error": "unknown order"}
        return 200, answer


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    @property
    def service(self) -> ProvisioningService:
        return self.server.service  # type: ignore[attr-defined,no-any-return]

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/orders":
            return self._reply(404, {"error": "not found"})
        status = self.service.take_order(body, self._headers())
        self._reply(status, {"accepted": status == 202})

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        route: dict[tuple[int, str], Callable[[], None]] = {
            (2, "orders"): lambda: self._reply(*self.service.poll(parts[1], self._headers())),
            (3, "lines"): self._line,
            (4, "lines"): self._line,
        }
        handler = route.get((len(parts), parts[0]))
        if handler is None:
            return self._reply(404, {"error": "not found"})
        handler()

    def _line(self) -> None:
        """The line server: `/lines/{id}/health` and `/lines/{id}/imessage/status`."""
        with self.service.lock:
            self.service.state.probes.append(self.path)
        if self.path.endswith("/imessage/status"):
            return self._reply(200, {"available": True})
        self._reply(200, {"status": "ok"})

    def log_message(self, format: str, *args: Any) -> None:
        pass
