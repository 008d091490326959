"""A typed Python client for the Tuco Lines API.

from tuco_client import TucoClient

with TucoClient("http://127.0.0.1:8000", "tk_...") as tuco:
    answer = tuco.request_line("phone", "Ada", "Lovelace")
    tuco.wait_for(answer.id, "active", timeout=30)
    for line in tuco.lines(status="active"):
        print(line.id, line.phone)
"""

from tuco_client.client import TucoClient
from tuco_client.errors import (
    ERRORS,
    ChannelNotAvailable,
    Conflict,
    Forbidden,
    IdempotencyConflict,
    InternalError,
    InvalidSignature,
    InvalidTransition,
    LineLimitReached,
    LineNotCheckable,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PaymentPending,
    RateLimited,
    ServiceUnavailable,
    SubscriptionRequired,
    TucoError,
    Unauthorized,
    UnexpectedStatus,
    UnsupportedMediaType,
    ValidationError,
    WaitTimeout,
)
from tuco_client.models import (
    Channel,
    Event,
    HealthCheck,
    Line,
    LineRequest,
    PaymentStatus,
    Status,
    Usage,
)

__all__ = [
    "ERRORS",
    "Channel",
    "ChannelNotAvailable",
    "Conflict",
    "Event",
    "Forbidden",
    "HealthCheck",
    "IdempotencyConflict",
    "InternalError",
    "InvalidSignature",
    "InvalidTransition",
    "Line",
    "LineLimitReached",
    "LineNotCheckable",
    "LineRequest",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PaymentPending",
    "PaymentStatus",
    "RateLimited",
    "ServiceUnavailable",
    "Status",
    "SubscriptionRequired",
    "TucoClient",
    "TucoError",
    "Unauthorized",
    "UnexpectedStatus",
    "UnsupportedMediaType",
    "Usage",
    "ValidationError",
    "WaitTimeout",
]
