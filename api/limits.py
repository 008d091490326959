"""Abuse limits at the edge, as one pure ASGI middleware (a few dictionary operations per
request; nothing here touches storage):

- a token bucket per API key (`TUCO_RATE_LIMIT` requests/s, `TUCO_RATE_BURST`; off at 0)
  answering 429 `rate_limited` with `Retry-After`. A bearer string that is not a key this
  process has seen valid shares one bucket per client address, and the table is bounded
  (least recently used buckets go first), so random tokens cannot grow it;
- a deadline for a request body to arrive (`TUCO_BODY_TIMEOUT`): a body that trickles in is
  answered 408 `request_timeout` and its connection closed, freeing the worker;
- a bound on the webhook and usage batches open at once (`TUCO_MAX_OPEN_BATCHES`): past it
  503 `service_unavailable` with `Retry-After: 1`. Service calls (`/internal/…`,
  `/api/webhooks/…`) are bounded this way and are exempt from the per-key rate limit.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SERVICE_PREFIXES = ("/internal/", "/api/webhooks/")
MAX_BUCKETS = 10_000


@dataclass(frozen=True)
class LimitSettings:
    rate: float = 0.0  # requests per second per key; 0 = no rate limit
    burst: int = 50
    body_timeout: float = 10.0  # seconds for a whole body to arrive; 0 = no deadline
    max_open_batches: int = 32  # webhook and usage calls in progress at once; 0 = unbounded


class TokenBuckets:
    """`rate` tokens a second up to `burst`, per name; at most `max_buckets` names."""

    def __init__(
        self,
        rate: float,
        burst: int,
        max_buckets: int = MAX_BUCKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = float(max(burst, 1))
        self.max_buckets = max_buckets
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def take(self, name: str) -> float:
        """0 when a token was taken; else the seconds until one is available."""
        now = self.clock()
        tokens, at = self._buckets.pop(name, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[name] = (tokens, now)  # most recently used last
        if len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


class BodyTimeout(Exception):
    """The request body did not arrive within the deadline."""


def _error(
    status: int, code: str, message: str, headers: list[tuple[bytes, bytes]]
) -> tuple[Message, Message]:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False


class Limits:
    """The middleware. `known_key(token)`: whether the token is an API key this process has
    seen valid (those get a bucket of their own)."""

    def __init__(
        self, app: ASGIApp, settings: LimitSettings, known_key: Callable[[str], bool]
    ) -> None:
        self.app = app
        self.settings = settings
        self.known_key = known_key
        self.buckets = TokenBuckets(settings.rate, settings.burst) if settings.rate > 0 else None
        self.open_batches = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service = scope["path"].startswith(SERVICE_PREFIXES)
        if not service and self.buckets is not None:
            wait = self.buckets.take(self._bucket_name(scope))
            if wait > 0:
                await self._answer(send, *self._rate_limited(wait))
                return
        timed = self.settings.body_timeout > 0 and _has_body(scope)
        if timed:
            receive = self._with_deadline(receive, self.settings.body_timeout)
        if service and self.settings.max_open_batches > 0:
            await self._bounded(scope, receive, send, timed)
        elif timed:
            await self._guarded(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _bucket_name(self, scope: Scope) -> str:
        token = _bearer(scope)
        if token is not None and self.known_key(token):
            return token
        client = scope.get("client")
        return f"client:{client[0] if client else '-'}"

    @staticmethod
    def _rate_limited(wait: float) -> tuple[Message, Message]:
        seconds = str(max(1, math.ceil(wait))).encode()
        return _error(
            429,
            "rate_limited",
            "Too many requests for this API key; retry later.",
            [(b"retry-after", seconds)],
        )

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, timed: bool) -> None:
        if self.open_batches >= self.settings.max_open_batches:
            await self._answer(
                send,
                *_error(
                    503,
                    "service_unavailable",
                    "Too many batches are open; retry shortly.",
                    [(b"retry-after", b"1")],
                ),
            )
            return
        self.open_batches += 1
        try:
            await (self._guarded if timed else self.app)(scope, receive, send)
        finally:
            self.open_batches -= 1

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except BodyTimeout:
            if not started:  # else the server closes the connection (the answer is cut)
                await self._answer(
                    send,
                    *_error(
                        408,
                        "request_timeout",
                        "The request body did not arrive in time.",
                        [(b"connection", b"close")],
                    ),
                )

    @staticmethod
    def _with_deadline(receive: Receive, seconds: float) -> Receive:
        deadline = asyncio.get_running_loop().time() + seconds  # the whole body, not a chunk

        async def receive_before_deadline() -> Message:
            try:
                async with asyncio.timeout_at(deadline):
                    return await receive()
            except TimeoutError:
                raise BodyTimeout from None

        return receive_before_deadline

    @staticmethod
    async def _answer(send: Send, start: Message, body: Message) -> None:
        await send(start)
        await send(body)
