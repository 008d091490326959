"""Read-model rows rendered as the SPEC's JSON shapes (the Structs of api/schemas.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.schemas import Event, HealthCheck, Line, LineRequestAnswer, Usage
from application.views import LineView
from domain.enums import LineState


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def line(view: LineView, today: datetime) -> Line:
    awaiting = view.state is LineState.AWAITING_PAYMENT
    return Line(
        id=str(view.id),
        workspace_id=view.workspace_id,
        first_name=view.first_name,
        last_name=view.last_name,
        phone=view.phone,
        email=view.email,
        is_active=view.state is LineState.ACTIVE,
        provisioning_status=view.state,
        payment_status=view.payment_status,
        request_source=view.source,
        requested_channel_type=view.channel,
        requested_line_type=view.line_type,
        payment_link_url=view.payment_url if awaiting else None,
        stripe_invoice_id=view.invoice_id,
        daily_new_conversations_limit=view.daily_new_conversations_limit,
        daily_total_messages_limit=view.daily_total_messages_limit,
        usage=Usage(
            date=view.usage_date or today.date(),
            new_messages=view.usage_new_conversations,
            total_messages=view.usage_total_messages,
        ),
        health_check=(
            HealthCheck(status=view.health_status, last_checked_at=view.health_checked_at)
            if view.health_status
            else None
        ),
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def line_request(view: LineView, today: datetime) -> LineRequestAnswer:
    body = line(view, today)
    return LineRequestAnswer(status=view.state, line=body, payment_url=body.payment_link_url)


def event(e: Any) -> Event:
    data = {
        k: _plain(v)
        for k, v in e.__dict__.items()
        if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")
    }
    return Event(type=type(e).__name__, version=e.originator_version, timestamp=e.timestamp,
                 data=data)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if hasattr(value, "value") and type(value).__module__ == "domain.enums":
        return value.value
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
