"""Read-model rows rendered as the SPEC's JSON shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from application.views import LineView
from domain.enums import LineState


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def line(view: LineView, today: datetime) -> dict[str, Any]:
    awaiting = view.state is LineState.AWAITING_PAYMENT
    return {
        "_id": str(view.id),
        "workspaceId": view.workspace_id,
        "firstName": view.first_name,
        "lastName": view.last_name,
        "phone": view.phone,
        "email": view.email,
        "isActive": view.state is LineState.ACTIVE,
        "provisioningStatus": view.state.value,
        "paymentStatus": view.payment_status.value,
        "requestSource": view.source.value,
        "requestedChannelType": view.channel.value,
        "requestedLineType": view.line_type.value,
        "paymentLinkUrl": view.payment_url if awaiting else None,
        "stripeInvoiceId": view.invoice_id,
        "dailyNewConversationsLimit": view.daily_new_conversations_limit,
        "dailyTotalMessagesLimit": view.daily_total_messages_limit,
        "usage": {
            "date": (view.usage_date or today.date()).isoformat(),
            "newMessages": view.usage_new_conversations,
            "totalMessages": view.usage_total_messages,
        },
        "healthCheck": (
            {
                "status": view.health_status.value,
                "lastCheckedAt": iso(view.health_checked_at) if view.health_checked_at else None,
            }
            if view.health_status
            else None
        ),
        "createdAt": iso(view.created_at),
        "updatedAt": iso(view.updated_at),
    }


def line_request(view: LineView, today: datetime) -> dict[str, Any]:
    body = line(view, today)
    return {
        "status": view.state.value,
        "line": body,
        "paymentUrl": body["paymentLinkUrl"],
    }


def event(e: Any) -> dict[str, Any]:
    data = {
        k: _plain(v)
        for k, v in e.__dict__.items()
        if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")
    }
    return {
        "type": type(e).__name__,
        "version": e.originator_version,
        "timestamp": iso(e.timestamp),
        "data": data,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if hasattr(value, "value") and type(value).__module__ == "domain.enums":
        return value.value
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
