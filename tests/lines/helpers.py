"""Helpers for the line tests: Clerk-like tokens, local HTTP servers a test controls, and
small calls against the API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.testclient import TestClient

from adapters.config import Settings
from api.app import create_app
from api.bootstrap import Services, build
from application.ports import Clock

INTERNAL_TOKEN = "internal-token-for-tests"
NOTIFY_SECRET = "notify-secret-for-tests"
HEALTH_TIMEOUT = 0.3

# --- Clerk-like session tokens --------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair standing in for a Clerk instance's signing key."""

    private_key: rsa.RSAPrivateKey
    public_pem: str
    kid: str

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(private, public_pem.decode(), kid)

    def jwks(self) -> dict[str, Any]:
        public = serialization.load_pem_public_key(self.public_pem.encode())
        jwk = json.loads(RSAAlgorithm.to_jwk(public))
        return {"keys": [jwk | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(
            claims, self.private_key, algorithm="RS256", headers={"kid": self.kid} | (headers or {})
        )


def claims(org: str | None = "org_a", version: int = 1, **extra: Any) -> dict[str, Any]:
    """A Clerk session token's claims: version 1 names the organization in `org_id`,
    version 2 in `o.id`. Valid for a minute from now."""
    now = int(time.time())
    base: dict[str, Any] = {"sub": "user_1", "sid": "sess_1", "iat": now, "nbf": now - 1}
    base["exp"] = now + 60
    if org is not None:
        base |= {"org_id": org} if version == 1 else {"v": 2, "o": {"id": org, "rol": "admin"}}
    return base | extra


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(payload: dict[str, Any]) -> str:
    """An `alg: none` token: no signature at all."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(payload).encode())}."


def hs256_token(payload: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token whose HMAC secret is `secret` (the classic key-confusion attack uses
    the public key's PEM)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    signing_input = f"{header}.{b64url(json.dumps(payload).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- local HTTP servers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Responder = Callable[[Received], tuple[int, Any]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = Received(
            self.command,
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            self.rfile.read(length),
        )
        owner = self.server.owner
        with owner.lock:
            owner.received.append(request)
        status, payload = owner.respond(request)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the probe's timeout) is expected here, not an error."""


class LocalServer:
    """An HTTP server on 127.0.0.1 in a thread, answering with `respond` and keeping every
    request it received."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.running = True

    def stop(self) -> None:
        """Stop listening: connections are refused from now on."""
        if self.running:
            self.running = False
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)


@dataclass
class LineServer:
    """A line's server as the health probe sees it. `mode` is flipped by the test:
    healthy, error (HTTP 500), slow (answers after the probe's timeout), no_imessage."""

    mode: str = "healthy"
    slow_seconds: float = 3.0
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.server = LocalServer(self._respond)
        self.url = self.server.url

    def _respond(self, request: Received) -> tuple[int, Any]:
        if self.mode == "slow":
            # The server simulating slowness; teardown releases it early.
            self.release.wait(self.slow_seconds)
        if self.mode == "error":
            return 500, {"status": "error"}
        if request.path == "/health":
            return 200, {"status": "ok"}
        if request.path == "/imessage/status":
            return 200, {"available": self.mode != "no_imessage"}
        return 404, {"error": "not found"}

    def paths(self) -> list[str]:
        return [r.path for r in self.server.received]

    def stop(self) -> None:
        self.release.set()
        self.server.stop()


@dataclass
class NotifyReceiver:
    """Where health notices are POSTed; answers `status`."""

    status: int = 200

    def __post_init__(self) -> None:
        self.server = LocalServer(lambda _: (self.status, {"received": True}))
        self.url = f"{self.server.url}/notify"

    @property
    def messages(self) -> list[Received]:
        return [r for r in self.server.received if r.method == "POST"]


def verify_signature(message: Received, secret: str) -> dict[str, Any]:
    """Checks `Tuco-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`; the decoded body."""
    parts = dict(p.split("=", 1) for p in message.headers["tuco-signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + message.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected), "Tuco-Signature does not verify"
    assert abs(int(parts["t"]) - time.time()) < 60
    return json.loads(message.body)  # type: ignore[no-any-return]


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll a condition with a deadline (for real servers in other threads or processes)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- the API --------------------------------------------------------------------------------


@contextmanager
def api(settings: Settings, clock: Clock, **changes: Any) -> Iterator[tuple[Services, TestClient]]:
    """Services and an in-process client built from `settings` with `changes`."""
    services = build(replace(settings, **changes), clock=clock)
    try:
        with TestClient(create_app(services, run_worker=False)) as client:
            yield services, client
    finally:
        services.close()


def log_position(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def event_types(services: Services, line_id: str | UUID) -> list[str]:
    return [type(e).__name__ for e in services.app.history(UUID(str(line_id)))]


def health_checks(services: Services, line_id: str | UUID) -> list[Any]:
    return [
        e for e in services.app.history(UUID(str(line_id))) if type(e).__name__ == "HealthChecked"
    ]
