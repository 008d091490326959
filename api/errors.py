"""Every error the API can answer, mapped to the SPEC's shape in one table.

An exception is answered by the entry of the nearest class on its MRO, so a subclass gets
its parent's answer unless it has its own row; order in the table does not matter. Storage
failures arrive here already translated by the adapters (`ServiceBusy`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from adapters import signing
from adapters.sandbox_billing import InvoiceNotPayable
from adapters.webhook_inbox import InvalidSignature
from api.responses import JSON
from api.schemas import ErrorAnswer, ErrorDetail
from application.errors import RateLimited, ServiceBusy
from application.ports import ExternalServiceUnavailable, InvoiceNotFound
from domain import errors as d
from domain.webhooks import EndpointDisabled, EndpointLimitReached


class ApiError(Exception):
    """An error raised at the edge (auth, parsing, routing) before the application is called."""

    def __init__(
        self, message: str, param: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.param = param
        self.headers = dict(headers or {})


class Unauthorized(ApiError):
    pass


class ValidationFailed(ApiError):
    pass


class MethodNotAllowed(ApiError):
    pass


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is larger than {limit} bytes.", param="body")


class UnsupportedMediaType(ApiError):
    pass


class Answer(NamedTuple):
    status: int
    code: str


ERRORS: dict[type[Exception], Answer] = {
    Unauthorized: Answer(401, "unauthorized"),
    ValidationFailed: Answer(422, "validation_error"),
    MethodNotAllowed: Answer(405, "method_not_allowed"),
    PayloadTooLarge: Answer(413, "payload_too_large"),
    UnsupportedMediaType: Answer(415, "unsupported_media_type"),
    d.SubscriptionRequired: Answer(402, "subscription_required"),
    d.ChannelNotAvailable: Answer(403, "channel_not_available"),
    d.LineLimitReached: Answer(403, "line_limit_reached"),
    d.PaymentPending: Answer(409, "payment_pending"),
    d.InvalidTransition: Answer(409, "invalid_transition"),
    d.IdempotencyConflict: Answer(409, "idempotency_conflict"),
    d.NotFound: Answer(404, "not_found"),
    InvoiceNotFound: Answer(404, "not_found"),
    InvoiceNotPayable: Answer(409, "invalid_transition"),
    EndpointLimitReached: Answer(409, "endpoint_limit_reached"),
    EndpointDisabled: Answer(409, "invalid_transition"),
    d.InvalidValue: Answer(422, "validation_error"),  # and its kinds: limits, override, details
    d.LineNotCheckable: Answer(400, "line_not_checkable"),
    d.WorkspaceExists: Answer(409, "conflict"),
    InvalidSignature: Answer(400, "invalid_signature"),
    RateLimited: Answer(429, "rate_limited"),
    signing.InvalidSignature: Answer(400, "invalid_signature"),  # Standard Webhooks
    ServiceBusy: Answer(503, "service_unavailable"),
    ExternalServiceUnavailable: Answer(503, "service_unavailable"),
}

# What Starlette itself raises (an unknown path) in the same shape.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

UNAVAILABLE = "A service we depend on is unavailable; retry shortly."


def answer_for(exc: BaseException) -> Answer | None:
    """The row of the nearest class on the exception's MRO, or None (an unknown error)."""
    for cls in type(exc).__mro__:
        row = ERRORS.get(cls)
        if row is not None:
            return row
    return None


def error_body(
    code: str, message: str, param: str | None = None, request_id: str | None = None
) -> ErrorAnswer:
    return ErrorAnswer(
        error=ErrorDetail(code=code, message=message, param=param, request_id=request_id)
    )


def error_response(exc: Exception) -> Response:
    """The response for a known error, or a re-raise for an unknown one."""
    row = answer_for(exc)
    if row is None:
        raise exc
    headers = dict(getattr(exc, "headers", None) or {})
    message = str(exc)
    if row.status == 503:
        headers["Retry-After"] = "1"
        message = UNAVAILABLE
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    pending = getattr(exc, "request_id", None) if isinstance(exc, d.PaymentPending) else None
    body = error_body(
        row.code, message, getattr(exc, "param", None), str(pending) if pending else None
    )
    return JSON(body, status_code=row.status, headers=headers or None)


async def handle_known(request: Request, exc: Exception) -> Response:
    return error_response(exc)


async def handle_http(request: Request, exc: HTTPException) -> Response:
    code = HTTP_CODES.get(exc.status_code, "error")
    return JSON(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """The 500 answer; the error is logged once, by the request log (api.observe)."""
    return JSON(error_body("internal_error", "An unexpected error occurred."), status_code=500)


def exception_handlers() -> dict[object, object]:
    """Starlette looks handlers up along the MRO too: one registration per table row."""
    handlers: dict[object, object] = {cls: handle_known for cls in ERRORS}
    handlers[HTTPException] = handle_http
    handlers[500] = handle_unexpected
    return handlers
