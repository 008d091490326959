"""The plain-CRUD baseline's rules: body validation like the product's (422 with `param`),
the plan table with overrides (SPEC §2), errors in the SPEC's shape and the LINE object."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import RowMapping
from starlette.responses import JSONResponse

from bench.crud_schema import PLANS

HOLDS = ("awaiting_payment", "provisioning", "active")
FIELDS = {"requestedChannelType", "requestedLineType", "firstName", "lastName", "email", "phone"}
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
DAILY_NEW, DAILY_TOTAL = 20, 150  # the product's default daily limits


class JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"code": code, "message": message, **extra}


def invalid(param: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, param=param)


def _text(data: dict[str, Any], name: str, required: bool, max_len: int) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise invalid(name, f"{name} is required.")
        return None
    if not isinstance(value, str) or len(value.strip()) > max_len:
        raise invalid(name, f"{name} must be a string of at most {max_len} characters.")
    return value.strip()


def validate(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid("body", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("body", "The body must be a JSON object.")
    for name in data:
        if name not in FIELDS:
            raise invalid(name, f"Unknown field {name!r}.")
    channel = _text(data, "requestedChannelType", True, 10)
    if channel not in ("phone", "email"):
        raise invalid("requestedChannelType", "requestedChannelType must be phone or email.")
    if (_text(data, "requestedLineType", False, 20) or "purchased") != "purchased":
        raise invalid("requestedLineType", "requestedLineType must be purchased.")
    email = _text(data, "email", channel == "email", 254)
    if email is not None and not EMAIL.match(email):
        raise invalid("email", "email is not a valid email address.")
    phone = _text(data, "phone", False, 16)
    if phone is not None and not E164.match(phone):
        raise invalid("phone", "phone must be in E.164 form.")
    first, last = _text(data, "firstName", True, 100), _text(data, "lastName", True, 100)
    return {
        "channel": channel,
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
    }


def allowance(plan: str, channel: str, overrides: str) -> tuple[int, int | None]:
    """(included, max) of the plan, raised by the workspace's override (SPEC §2)."""
    included, limit = PLANS[(plan, channel)]
    o = json.loads(overrides).get(channel)
    if not o:
        return included, limit
    if o.get("included") is not None:
        included = o["included"]
    if o.get("max") is not None:
        return included, max(o["max"], included)
    return included, None if limit is None else max(limit, included)


def iso(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat() + "Z"


def render(r: RowMapping | dict[str, Any]) -> dict[str, Any]:
    awaiting = r["state"] == "awaiting_payment"
    checked = r["health_checked_at"]
    return {
        "_id": r["id"],
        "workspaceId": r["workspace_id"],
        "firstName": r["first_name"],
        "lastName": r["last_name"],
        "phone": r["phone"],
        "email": r["email"],
        "isActive": r["state"] == "active",
        "provisioningStatus": r["state"],
        "paymentStatus": r["payment_status"],
        "requestSource": r["request_source"],
        "requestedChannelType": r["channel"],
        "requestedLineType": r["line_type"],
        "paymentLinkUrl": r["payment_link_url"] if awaiting else None,
        "stripeInvoiceId": r["stripe_invoice_id"],
        "dailyNewConversationsLimit": r["daily_new_conversations_limit"],
        "dailyTotalMessagesLimit": r["daily_total_messages_limit"],
        "usage": {
            "date": r["usage_date"] or datetime.now(UTC).date().isoformat(),
            "newMessages": r["usage_new_messages"],
            "totalMessages": r["usage_total_messages"],
        },
        "healthCheck": (
            {"status": r["health_status"], "lastCheckedAt": iso(checked) if checked else None}
            if r["health_status"]
            else None
        ),
        "createdAt": iso(r["created_at"]),
        "updatedAt": iso(r["updated_at"]),
    }


def answer(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": line["provisioningStatus"],
        "line": line,
        "paymentUrl": line["paymentLinkUrl"],
    }
