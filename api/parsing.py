"""Bodies and query strings decoded into the Structs of api/schemas.py, then into typed
commands. msgspec checks shapes and types; `domain/bounds.py` checks values. Anything
unexpected is a 422 naming the field (`param`), never a 500."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from typing import TypeVar
from uuid import UUID

import msgspec

from api.errors import PayloadTooLarge, ValidationFailed
from api.schemas import Action, ActionBody, LineRequestBody, UsageBatchBody
from application.usage import UsageItem
from domain import bounds
from domain.decisions import LineDetails
from domain.enums import Channel, RequestSource
from domain.errors import NotFound

MAX_BODY_BYTES = 64 * 1024
MAX_USAGE_BODY_BYTES = 512 * 1024  # room for bounds.MAX_USAGE_ITEMS items
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

T = TypeVar("T")

# msgspec's messages end in " - at `$.items[0].lineId`" (nothing at the top level).
_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_FIELD = re.compile(r"(?P<kind>unknown|missing required) field `(?P<name>[^`]+)`")


def invalid(message: str, *, top: str = "body") -> ValidationFailed:
    """A msgspec validation message as a 422 naming the field (`items[0].lineId`)."""
    match = _AT.match(message)
    what, path = (match["what"], (match["path"] or "").lstrip(".")) if match else (message, "")
    named = _FIELD.search(what)
    if named:
        name = named["name"]
        param = f"{path}.{name}" if path else name
        if named["kind"] == "unknown":
            return ValidationFailed(f"Unknown field {name!r}.", param=param)
        return ValidationFailed(f"{param} is required.", param=param)
    if not path:
        return ValidationFailed(f"The {top} must be a JSON object.", param=top)
    return ValidationFailed(f"{path}: {what.replace('`', '')}.", param=path)


def decode(body: bytes, kind: type[T], max_bytes: int = MAX_BODY_BYTES) -> T:
    """A JSON body as the Struct `kind`."""
    if len(body) > max_bytes:
        raise PayloadTooLarge(max_bytes)
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as e:
        raise invalid(str(e)) from None
    except msgspec.DecodeError:
        raise ValidationFailed("The body is not a valid JSON object.", param="body") from None


def query(params: Mapping[str, str], kind: type[T]) -> T:
    """A query string as the Struct `kind` (text converted to its fields' types)."""
    try:
        return msgspec.convert(dict(params), type=kind, strict=False)
    except msgspec.ValidationError as e:
        raise invalid(str(e), top="query") from None


def request_line(
    body: bytes, workspace_id: str, source: RequestSource, idempotency_key: str | None
) -> LineDetails:
    b = decode(body, LineRequestBody)
    name = bounds.MAX_NAME_LENGTH
    first = bounds.text("firstName", b.first_name, max_len=name) or ""
    last = bounds.text("lastName", b.last_name, max_len=name) or ""
    channel = b.requested_channel_type
    email = bounds.email("email", b.email, required=channel is Channel.EMAIL)
    phone = bounds.phone("phone", b.phone)
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 255 visible ASCII characters.", param="Idempotency-Key"
        )
    return LineDetails(
        workspace_id=workspace_id,
        channel=channel,
        line_type=b.requested_line_type,
        first_name=first,
        last_name=last,
        email=email,
        phone=phone,
        source=source,
        idempotency_key=idempotency_key,
    )


def action(body: bytes) -> Action:
    return decode(body, ActionBody).action


def request_id(raw: str) -> UUID:
    """A malformed id names no request of the workspace: 404, like another workspace's id."""
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound("line request", raw) from None


def usage_batch(body: bytes) -> tuple[str, list[UsageItem]]:
    b = decode(body, UsageBatchBody, MAX_USAGE_BODY_BYTES)
    batch_id = bounds.text("batchId", b.batch_id, max_len=bounds.MAX_BATCH_ID_LENGTH) or ""
    items = [
        UsageItem(
            line_id=item.line_id,
            at=item.timestamp if item.timestamp.tzinfo else item.timestamp.replace(tzinfo=UTC),
            new_conversation=item.new_conversation,
            messages=bounds.count(f"items[{n}].messages", item.messages, bounds.MAX_USAGE_MESSAGES),
        )
        for n, item in enumerate(b.items)
    ]
    return batch_id, items
