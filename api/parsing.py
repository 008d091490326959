"""JSON bodies turned into typed commands; anything unexpected is a 422, never a 500."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from api.errors import ValidationFailed
from application.usage import UsageItem
from domain import bounds
from domain.decisions import LineDetails
from domain.enums import Channel, LineType, RequestSource
from domain.errors import NotFound

MAX_BODY_BYTES = 64 * 1024
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

LINE_REQUEST_FIELDS = {
    "requestedChannelType",
    "requestedLineType",
    "firstName",
    "lastName",
    "email",
    "phone",
}


def json_object(body: bytes, allowed: set[str], max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    if len(body) > max_bytes:
        raise ValidationFailed(f"The body is larger than {max_bytes} bytes.", param="body")
    if not body.strip():
        raise ValidationFailed("The body must be a JSON object.", param="body")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValidationFailed("The body is not valid JSON.", param="body") from None
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", param="body")
    for name in data:
        if name not in allowed:
            raise ValidationFailed(f"Unknown field {name!r}.", param=name)
    return data


def _string(data: dict[str, Any], name: str, *, required: bool, max_len: int) -> str | None:
    """A text field, checked by the one validation the domain and the CLI use too."""
    return bounds.text(name, data.get(name), max_len=max_len, required=required)


def _choice(data: dict[str, Any], name: str, enum: Any, default: Any = None) -> Any:
    raw = _string(data, name, required=default is None, max_len=50)
    if raw is None:
        return default
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValidationFailed(f"{name} must be one of: {allowed}.", param=name) from None


def request_line(
    body: bytes, workspace_id: str, source: RequestSource, idempotency_key: str | None
) -> LineDetails:
    data = json_object(body, LINE_REQUEST_FIELDS)
    channel: Channel = _choice(data, "requestedChannelType", Channel)
    line_type: LineType = _choice(data, "requestedLineType", LineType, LineType.PURCHASED)
    first = _string(data, "firstName", required=True, max_len=100)
    last = _string(data, "lastName", required=True, max_len=100)
    email = bounds.email("email", data.get("email"), required=channel is Channel.EMAIL)
    phone = bounds.phone("phone", data.get("phone"))
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 255 visible ASCII characters.", param="Idempotency-Key"
        )
    return LineDetails(
        workspace_id=workspace_id,
        channel=channel,
        line_type=line_type,
        first_name=first or "",
        last_name=last or "",
        email=email,
        phone=phone,
        source=source,
        idempotency_key=idempotency_key,
    )


def action(body: bytes) -> str:
    data = json_object(body, {"action"})
    value = _string(data, "action", required=True, max_len=50)
    if value not in ("payment_link", "cancel"):
        raise ValidationFailed("action must be one of: payment_link, cancel.", param="action")
    return value


def request_id(raw: str) -> UUID:
    """A malformed id names no request of the workspace: 404, like another workspace's id."""
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound("line request", raw) from None


MAX_USAGE_ITEMS = 1000
MAX_USAGE_BODY_BYTES = 512 * 1024  # room for MAX_USAGE_ITEMS items


def usage_batch(body: bytes) -> tuple[str, list[UsageItem]]:
    """`{"batchId", "items": [{"lineId", "timestamp", "newConversation", "messages"}]}`."""
    data = json_object(body, {"batchId", "items"}, MAX_USAGE_BODY_BYTES)
    batch_id = _string(data, "batchId", required=True, max_len=200) or ""
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not 0 < len(raw_items) <= MAX_USAGE_ITEMS:
        raise ValidationFailed(
            f"items must be a list of 1 to {MAX_USAGE_ITEMS} usage items.", param="items"
        )
    return batch_id, [_usage_item(raw, f"items[{n}]") for n, raw in enumerate(raw_items)]


def _usage_item(raw: Any, where: str) -> UsageItem:
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{where} must be an object.", param=where)
    for name in raw:
        if name not in ("lineId", "timestamp", "newConversation", "messages"):
            raise ValidationFailed(f"Unknown field {name!r}.", param=f"{where}.{name}")
    raw_id, raw_at = raw.get("lineId"), raw.get("timestamp")
    try:
        if not isinstance(raw_id, str):
            raise ValueError
        line_id = UUID(raw_id)
    except ValueError:
        raise ValidationFailed("lineId is not a line id.", param=f"{where}.lineId") from None
    try:
        if not isinstance(raw_at, str):
            raise ValueError
        at = datetime.fromisoformat(raw_at.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            "timestamp must be an ISO 8601 time.", param=f"{where}.timestamp"
        ) from None
    new = raw.get("newConversation", False)
    messages = raw.get("messages", 1)
    if not isinstance(new, bool):
        raise ValidationFailed("newConversation must be true or false.", f"{where}.newConversation")
    if isinstance(messages, bool) or not isinstance(messages, int) or not 0 <= messages <= 10**6:
        raise ValidationFailed("messages must be a whole number >= 0.", f"{where}.messages")
    return UsageItem(
        line_id=line_id,
        at=at if at.tzinfo else at.replace(tzinfo=UTC),
        new_conversation=new,
        messages=messages,
    )
