"""Typed answers of the Tuco Lines API (SPEC §4), decoded and checked by msgspec.

Field names follow Python; the wire names are the API's camelCase. Unknown fields in an
answer are ignored, so a newer server's additions do not break an older client.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import msgspec


class Status(Enum):
    """A line request's `provisioningStatus` (and the answer's `status`)."""

    AWAITING_PAYMENT = "awaiting_payment"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL = frozenset({Status.ACTIVE, Status.FAILED, Status.CANCELED})


class Channel(Enum):
    PHONE = "phone"
    EMAIL = "email"


class PaymentStatus(Enum):
    NOT_REQUIRED = "not_required"
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"
    VOID = "void"


class Usage(msgspec.Struct, frozen=True, rename="camel"):
    """Today's (UTC) counters of a line."""

    date: date
    new_messages: int
    total_messages: int


class HealthCheck(msgspec.Struct, frozen=True, rename="camel"):
    status: str
    last_checked_at: datetime | None = None


class Line(msgspec.Struct, frozen=True, rename="camel"):
    """The LINE object."""

    id: str = msgspec.field(name="_id")
    workspace_id: str
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    is_active: bool
    provisioning_status: Status
    payment_status: PaymentStatus
    request_source: str
    requested_channel_type: Channel
    requested_line_type: str
    payment_link_url: str | None
    stripe_invoice_id: str | None
    daily_new_conversations_limit: int
    daily_total_messages_limit: int
    usage: Usage
    health_check: HealthCheck | None
    created_at: datetime
    updated_at: datetime


class LineRequest(msgspec.Struct, frozen=True, rename="camel"):
    """What POST, GET and the actions on /api/line-requests answer."""

    status: Status
    line: Line
    payment_url: str | None = None

    @property
    def id(self) -> str:
        return self.line.id


class Event(msgspec.Struct, frozen=True):
    """One entry of a request's history (`/events`), oldest first."""

    type: str
    version: int
    timestamp: datetime
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class LinesPage(msgspec.Struct, frozen=True):
    lines: list[Line]
    has_more: bool = False


class LineRequestsPage(msgspec.Struct, frozen=True):
    data: list[LineRequest]
    has_more: bool = False


class EventList(msgspec.Struct, frozen=True):
    events: list[Event]
    has_more: bool = False  # later events exist beyond this answer
