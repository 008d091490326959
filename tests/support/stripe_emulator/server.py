"""HTTP front of the emulator: a ThreadingHTTPServer on 127.0.0.1 that authenticates, simulates
outages, applies Idempotency-Key semantics, logs requests, dispatches to `routes`, serves the
hosted invoice page, and hands events created by a request to the webhook worker once the
response has been written."""

from __future__ import annotations

import base64
import copy
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from . import params as form
from .errors import EmulatedStripeError
from .hosted import hosted_page
from .objects import API_VERSION, new_id
from .routes import dispatch
from .store import Store
from .webhooks import WebhookDispatcher


@dataclass
class Reply:
    """What to write back: status, JSON bytes, extra headers, and the events to deliver once
    the response is written (those created while auto-delivery to a URL was on)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Saved:
    method: str
    path: str
    params: dict[str, Any]
    reply: Reply
    request_id: str


def _json(obj: Any) -> bytes:
    return json.dumps(obj, indent=2).encode("utf-8")


def _error(error: EmulatedStripeError, request_id: str) -> Reply:
    return Reply(error.status, _json(error.body(request_id)))


class StripeApi:
    """Transport-independent request handling for the `/v1` API."""

    def __init__(self, store: Store, api_key: str, webhooks: WebhookDispatcher) -> None:
        self.store = store
        self.api_key = api_key
        self.webhooks = webhooks
        self.unavailable = False
        self.requests: list[dict[str, Any]] = []
        self._saved: dict[tuple[str, str], _Saved] = {}
        self._log_lock = threading.Lock()

    def handle(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Reply:
        """Answer one API request (headers keyed in lower case)."""
        request_id = new_id("req")[:18]
        split = urlsplit(target)
        key = headers.get("idempotency-key") if method == "POST" else None
        entry: dict[str, Any] = {
            "method": method,
            "path": split.path,
            "params": {},
            "idempotency_key": key,
            "stripe_version": headers.get("stripe-version"),
            "request_id": request_id,
            "status": None,
            "replayed": False,
        }
        with self._log_lock:
            self.requests.append(entry)
        reply = self._answer(method, split.path, split.query, body, headers, entry)
        with self._log_lock:
            entry["status"] = reply.status
        reply.headers.update({"Request-Id": request_id, "Stripe-Version": API_VERSION})
        if key:
            reply.headers["Idempotency-Key"] = key
        return reply

    def expire_idempotency_keys(self) -> None:
        with self.store.lock:
            self._saved.clear()

    def request_log(self) -> list[dict[str, Any]]:
        """A copy of the request log."""
        with self._log_lock:
            return copy.deepcopy(self.requests)

    def _answer(
        self,
        method: str,
        path: str,
        query: str,
        body: bytes,
        headers: dict[str, str],
        entry: dict[str, Any],
    ) -> Reply:
        request_id = entry["request_id"]
        if self.unavailable:
            return _error(
                EmulatedStripeError(
                    "Stripe is temporarily unavailable (emulated outage). Please try again later.",
                    status=503,
                    type="api_error",
                    replayable=False,
                ),
                request_id,
            )
        api_key = self._api_key(headers.get("authorization", ""))
        if api_key != self.api_key:
            return self._unauthorized(api_key, request_id)
        try:
            params = form.decode(body.decode("utf-8") if method == "POST" else query)
        except (EmulatedStripeError, UnicodeDecodeError) as exc:
            error = (
                exc
                if isinstance(exc, EmulatedStripeError)
                else EmulatedStripeError("Invalid request body: not UTF-8.", replayable=False)
            )
            return _error(error, request_id)
        with self._log_lock:
            entry["params"] = copy.deepcopy(params)
        key = entry["idempotency_key"]
        with self.store.lock:
            saved = self._saved.get((api_key, key)) if key else None
            if saved is not None:
                same = (saved.method, saved.path, saved.params) == (method, path, params)
                with self._log_lock:
                    entry["replayed"] = same
                return self._replay(saved, same, key or "", request_id)
            first_event = len(self.store.tables["event"])
            self.store.request_context = (request_id, key)
            replayable = True
            try:
                result = dispatch(self.store, method, path, params)
                reply = Reply(200, _json(result))
            except EmulatedStripeError as exc:
                reply, replayable = _error(exc, request_id), exc.replayable
            except Exception as exc:  # noqa: BLE001 - an emulator bug must still answer JSON
                reply = _error(
                    EmulatedStripeError(
                        f"Stripe emulator bug: {type(exc).__name__}: {exc}",
                        status=500,
                        type="api_error",
                    ),
                    request_id,
                )
            finally:
                self.store.request_context = (None, None)
            events = self.store.events()[first_event:]
            if events and self.webhooks.auto_deliver and self.webhooks.url:  # decided now
                reply.events = copy.deepcopy(events)
                self.webhooks.hold()
            if key and replayable:
                self._saved[(api_key, key)] = _Saved(method, path, params, reply, request_id)
            return reply

    @staticmethod
    def _replay(saved: _Saved, same: bool, key: str, request_id: str) -> Reply:
        if not same:
            return _error(
                EmulatedStripeError(
                    "Keys for idempotent requests can only be used with the same parameters they "
                    f"were first used with. Try using a key other than '{key}' if you meant to "
                    "execute a different request.",
                    type="idempotency_error",
                    replayable=False,
                ),
                request_id,
            )
        return Reply(
            saved.reply.status,
            saved.reply.body,
            {"Idempotent-Replayed": "true", "Original-Request": saved.request_id},
        )

    @staticmethod
    def _api_key(authorization: str) -> str | None:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return credentials.strip() or None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip()).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None
            return decoded.partition(":")[0] or None
        return None

    @staticmethod
    def _unauthorized(api_key: str | None, request_id: str) -> Reply:
        if api_key is None:
            message = (
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/."
            )
        else:
            shown = api_key[:8] + "*" * max(len(api_key) - 12, 0) + api_key[-4:]
            message = f"Invalid API Key provided: {shown}"
        reply = _error(EmulatedStripeError(message, status=401, replayable=False), request_id)
        reply.headers["WWW-Authenticate"] = 'Basic realm="Stripe"'
        return reply


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorHTTPServer
    server_version = "stripe-emulator"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is `StripeEmulator.requests`."""

    def _serve(self) -> None:
        api = self.server.api
        if self.path.startswith("/hosted/") and self.command == "GET":
            status, content_type, page = hosted_page(api.store, urlsplit(self.path).path)
            self._write(status, page, {"Content-Type": content_type})
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = api.handle(self.command, self.path, body, headers)
        try:
            self._write(
                reply.status, reply.body, {"Content-Type": "application/json", **reply.headers}
            )
        finally:
            if reply.events:  # only once the response is out, as Stripe does
                api.webhooks.submit(reply.events)

    do_GET = do_POST = do_DELETE = _serve

    def _write(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class EmulatorHTTPServer(ThreadingHTTPServer):
    """Binds 127.0.0.1 on a free port; one daemon thread per connection."""

    daemon_threads = True

    def __init__(self, api: StripeApi) -> None:
        self.api = api
        super().__init__(("127.0.0.1", 0), _Handler)
