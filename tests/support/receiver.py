"""A real HTTP server on 127.0.0.1 that receives outbound webhooks and verifies each one
with the reference `standardwebhooks` package (not the service's own signer)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    msg_id: str
    body: dict[str, Any]
    verified: bool


@dataclass
class Receiver:
    url: str
    secret: str | None = None
    # Answer this status to the next `fail_next` requests (then 204).
    fail_next: int = 0
    fail_status: int = 503
    always_fail: bool = False
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, msg_id: str, raw: bytes, headers: dict[str, str]) -> int:
        verified = False
        if self.secret:
            try:
                Webhook(self.secret).verify(raw, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        with self._lock:
            if self.always_fail or self.fail_next > 0:
                self.fail_next = max(0, self.fail_next - 1)
                self.refused += 1
                return self.fail_status
            self.received.append(Received(msg_id, json.loads(raw), verified))
            return 204

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(
        self, ok: Callable[[list[Received]], bool], timeout: float = 20.0
    ) -> list[Received]:
        """Wait (with a deadline) until `ok(messages)` holds; the messages then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.messages()
            if ok(got):
                return got
            time.sleep(0.02)  # polling a condition with a deadline
        raise TimeoutError(f"receiver condition not met in {timeout} s; got {self.messages()}")


@contextmanager
def receiving_server() -> Iterator[Receiver]:
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = holder[0].answer(headers.get("webhook-id", ""), raw, headers)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
