"""Request bodies, before any handler reads them: a size limit per endpoint and JSON only.

A pure ASGI middleware (no buffering of its own):
- a declared `Content-Length` over the endpoint's limit is answered 413 `payload_too_large`
  at once, before a byte of the body is read (the connection is then closed);
- a streamed (chunked) body is counted as it arrives and cut off with 413 as soon as it
  passes the limit, so no handler ever holds more than the limit in memory;
- a body declared as anything but JSON on the JSON API (`/api/…`, `/internal/…`) is
  answered 415 `unsupported_media_type`. A body without a Content-Type is parsed as JSON (and
  refused 422 when it is not).

Handlers authenticate before they read a body, so an unauthenticated caller never makes the
service read one (except the Stripe webhook, whose signature covers the body).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import parsing
from api.errors import (
    Answer,
    ApiError,
    PayloadTooLarge,
    UnsupportedMediaType,
    answer_for,
    error_body,
)

DEFAULT_LIMIT = parsing.MAX_BODY_BYTES  # 64 KiB
LIMITS = {
    "/internal/usage": parsing.MAX_USAGE_BODY_BYTES,  # 512 KiB: up to 1,000 usage items
    "/api/webhooks/stripe": 1024 * 1024,  # Stripe's event objects
}
JSON_PREFIXES = ("/api/", "/internal/")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def limit_for(path: str) -> int:
    return LIMITS.get(path.rstrip("/") or "/", DEFAULT_LIMIT)


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class BodyLimits:
    """Wraps the application; see the module docstring."""

    def __init__(self, app: ASGIApp, limit: Callable[[str], int] = limit_for) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.limit(path)
        headers = {k.lower(): v for k, v in scope["headers"]}
        refused = _refusal(scope["method"], path, headers, limit)
        if refused is not None:
            await _answer(send, refused)
            return
        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if message["status"] == TOO_LARGE:  # the rest of the body is not read
                    message = {**message, "headers": [*message.get("headers", []), _CLOSE]}
            await send(message)

        try:
            await self.app(scope, capped_receive, closing_send)
        except PayloadTooLarge as e:  # raised where no exception handler answered it
            if started:
                raise
            await _answer(send, e)


_CLOSE = (b"connection", b"close")
TOO_LARGE = 413


def _refusal(method: str, path: str, headers: dict[bytes, bytes], limit: int) -> ApiError | None:
    declared = headers.get(b"content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            size = 0  # the server has already refused a malformed length
        if size > limit:
            return PayloadTooLarge(limit)
    content_type = headers.get(b"content-type")
    if (
        method in BODY_METHODS
        and path.startswith(JSON_PREFIXES)
        and content_type is not None
        and not is_json(content_type.decode("latin-1"))
    ):
        return UnsupportedMediaType(
            "Send the body as JSON with 'Content-Type: application/json'.", param="Content-Type"
        )
    return None


async def _answer(send: Send, error: ApiError) -> None:
    row = answer_for(error) or Answer(400, "bad_request")  # both refusals have their row
    body = msgspec.json.encode(error_body(row.code, str(error), error.param))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        _CLOSE,  # whatever of the body is still coming is not read
    ]
    await send({"type": "http.response.start", "status": row.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
