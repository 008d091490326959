"""The closed vocabularies of the domain. Plain Enums (not str mixins) so they round-trip
through the event store with an explicit transcoding instead of silently becoming str."""

from enum import Enum


class Channel(Enum):
    PHONE = "phone"
    EMAIL = "email"


class LineType(Enum):
    PURCHASED = "purchased"


class Plan(Enum):
    MINI = "mini"
    STARTER = "starter"
    GROWTH = "growth"


class LineState(Enum):
    AWAITING_PAYMENT = "awaiting_payment"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    FAILED = "failed"
    CANCELED = "canceled"


class PaymentStatus(Enum):
    NOT_REQUIRED = "not_required"
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"
    VOID = "void"


class Billing(Enum):
    INCLUDED = "included"
    ADDON = "addon"


class RequestSource(Enum):
    API = "api"
    DASHBOARD = "dashboard"


class HealthStatus(Enum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


SLOT_HOLDING_STATES = frozenset(
    {LineState.AWAITING_PAYMENT, LineState.PROVISIONING, LineState.ACTIVE}
)
TERMINAL_STATES = frozenset({LineState.ACTIVE, LineState.FAILED, LineState.CANCELED})
