"""Every JSON shape the API reads or answers, as msgspec Structs: the handlers decode and
render with these, and `/openapi.json` is generated from them (no second copy).

Shapes and types are checked by msgspec when a body is decoded; values (lengths, formats,
ranges) by `domain/bounds.py`, whose constants the schema states (`documented`), so the
document describes the one validation there is.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, field

from application.listing import MAX_PAGE
from domain import bounds
from domain.enums import (
    Channel,
    HealthStatus,
    LineState,
    LineType,
    PaymentStatus,
    RequestSource,
)


def documented(**schema: Any) -> Meta:
    """JSON Schema keywords for the document only: `domain/bounds.py` enforces them."""
    return Meta(extra_json_schema=schema)


Name = Annotated[
    str, documented(minLength=1, maxLength=bounds.MAX_NAME_LENGTH, pattern=bounds.TEXT_PATTERN)
]
Email = Annotated[
    str, documented(maxLength=bounds.MAX_EMAIL_LENGTH, format="email", example="ada@example.com")
]
Phone = Annotated[str, documented(pattern=bounds.E164.pattern, example="+12025551234")]
Url = Annotated[str, Meta(description="An absolute URL.")]


class Action(Enum):
    PAYMENT_LINK = "payment_link"
    CANCEL = "cancel"


class Strict(Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """A request body: unknown fields are refused (422), camelCase on the wire."""


class LineRequestBody(Strict):
    """POST /api/line-requests."""

    requested_channel_type: Channel
    first_name: Name
    last_name: Name
    requested_line_type: LineType = LineType.PURCHASED
    email: Annotated[Email | None, Meta(description="Required for email lines.")] = None
    phone: Phone | None = None


class ActionBody(Strict):
    """POST /api/line-requests/{id}."""

    action: Action


class UsageItemBody(Strict):
    line_id: UUID
    timestamp: datetime
    new_conversation: bool = False
    messages: Annotated[int, documented(minimum=0, maximum=bounds.MAX_USAGE_MESSAGES)] = 1


class UsageBatchBody(Strict):
    """POST /internal/usage: a batch is counted once, by its id."""

    batch_id: Annotated[
        str,
        documented(minLength=1, maxLength=bounds.MAX_BATCH_ID_LENGTH, pattern=bounds.TEXT_PATTERN),
    ]
    items: Annotated[list[UsageItemBody], Meta(min_length=1, max_length=bounds.MAX_USAGE_ITEMS)]


class Answer(Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """A response body (the document lists exactly its fields)."""


class Usage(Answer):
    """Today's (UTC) counters of one line: `newMessages` counts new conversations."""

    date: date
    new_messages: int
    total_messages: int


class HealthCheck(Answer):
    status: HealthStatus
    last_checked_at: datetime | None


class Line(Answer):
    """The SPEC's LINE object."""

    id: str = field(name="_id")
    workspace_id: str
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    is_active: bool
    provisioning_status: LineState
    payment_status: PaymentStatus
    request_source: RequestSource
    requested_channel_type: Channel
    requested_line_type: LineType
    payment_link_url: Url | None
    stripe_invoice_id: str | None
    daily_new_conversations_limit: int
    daily_total_messages_limit: int
    usage: Usage
    health_check: HealthCheck | None
    created_at: datetime
    updated_at: datetime


class LineRequestAnswer(Answer):
    status: LineState
    line: Line
    payment_url: Url | None


# Lists (GET /api/lines/by-user, GET /api/line-requests): see application/listing.py.
PageLimit = Annotated[int, Meta(ge=1, le=MAX_PAGE)]


class ListQuery(Struct, forbid_unknown_fields=True, kw_only=True):
    """The query of the lists. UNSET (not None) for an absent parameter, so that a text
    such as `limit=null` is refused rather than read as absent."""

    limit: PageLimit | UnsetType = UNSET
    starting_after: Annotated[
        UUID | UnsetType,
        Meta(description="A line request id of the workspace: only older requests follow."),
    ] = UNSET
    status: LineState | UnsetType = UNSET
    requested_channel_type: Channel | UnsetType = field(name="requestedChannelType", default=UNSET)


HasMore = Annotated[bool, Meta(description="Whether older requests follow this page.")]


class LinesAnswer(Answer):
    lines: list[Line]
    has_more: HasMore = field(name="has_more")


class LineRequestsAnswer(Answer):
    data: list[LineRequestAnswer]
    has_more: HasMore = field(name="has_more")


class Event(Answer):
    type: str
    version: int
    timestamp: datetime
    data: dict[str, Any]


class EventsAnswer(Answer):
    events: list[Event]
    has_more: bool = field(name="has_more", default=False)  # later events exist


class AvailabilityAnswer(Answer):
    success: bool
    line_id: str
    status: HealthStatus
    failures: list[str]
    checked_at: datetime
    should_notify: bool
    notification_sent: bool


class Allowance(Answer):
    """One line's counters for one UTC day after a usage batch, against its limits."""

    line_id: str
    date: date
    new_messages: int
    total_messages: int
    daily_new_conversations_limit: int
    daily_total_messages_limit: int
    within_limits: bool


class UsageAnswer(Answer):
    duplicate: bool
    lines: list[Allowance]


class StatusAnswer(Answer):
    status: str


class ReadyCheck(Answer):
    ok: bool
    detail: str


class ReadyAnswer(Answer, omit_defaults=True):
    """/readyz: `ready` (200), or `not_ready` (503) with an `error` naming what fails."""

    status: str
    checks: dict[str, ReadyCheck]
    error: ErrorDetail | None = None


class WebhookAnswer(Answer):
    received: bool
    outcome: str


class PaidAnswer(Answer):
    invoice_id: str
    status: str
    notified: bool


class ImessageAnswer(Answer):
    available: bool


class ErrorDetail(Answer, omit_defaults=True):
    code: str
    message: str
    param: str | None = None
    request_id: Annotated[str | None, Meta(description="payment_pending: the request's id.")] = None


class ErrorAnswer(Answer):
    """Every error: `{"error": {"code", "message", "param"?}}`."""

    error: ErrorDetail


def encode(value: Any) -> bytes:
    return msgspec.json.encode(value)
