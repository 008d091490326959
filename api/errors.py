"""Every error the API can answer, mapped to the SPEC's shape in one table."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from adapters.sandbox_billing import InvoiceNotPayable
from adapters.webhook_inbox import InvalidSignature
from api.responses import JSON
from application.errors import ServiceBusy
from application.ports import ExternalServiceUnavailable, InvoiceNotFound
from domain import errors as d

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error raised at the edge (auth, parsing) before the application is called."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class ValidationFailed(ApiError):
    status, code = 422, "validation_error"


# Most specific first: the first class an exception is an instance of decides.
ERROR_TABLE: list[tuple[type[Exception], int, str]] = [
    (d.SubscriptionRequired, 402, "subscription_required"),
    (d.ChannelNotAvailable, 403, "channel_not_available"),
    (d.LineLimitReached, 403, "line_limit_reached"),
    (d.PaymentPending, 409, "payment_pending"),
    (d.InvalidTransition, 409, "invalid_transition"),
    (d.IdempotencyConflict, 409, "idempotency_conflict"),
    (d.NotFound, 404, "not_found"),
    (InvoiceNotFound, 404, "not_found"),
    (InvoiceNotPayable, 409, "invalid_transition"),
    (d.InvalidValue, 422, "validation_error"),  # also its kinds: limits, override, details
    (d.LineNotCheckable, 400, "line_not_checkable"),
    (d.WorkspaceExists, 409, "conflict"),
    (InvalidSignature, 400, "invalid_signature"),
    (ServiceBusy, 503, "service_unavailable"),
    (ExternalServiceUnavailable, 503, "service_unavailable"),
    # A database that is down or times out, reached outside a command (e.g. the key lookup).
    (DBAPIError, 503, "service_unavailable"),
]

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "validation_error",
    415: "validation_error",
}


def error_body(code: str, message: str, param: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    if param is not None:
        error["param"] = param
    return {"error": error}


def error_response(exc: Exception) -> Response:
    """The response for a known error, or a re-raise for an unknown one."""
    if isinstance(exc, ApiError):
        return JSON(error_body(exc.code, str(exc), exc.param), status_code=exc.status)
    for cls, status, code in ERROR_TABLE:
        if isinstance(exc, cls):
            headers = {"Retry-After": "1"} if status == 503 else None
            message = (
                str(exc)
                if status != 503
                else "A service we depend on is unavailable; retry shortly."
            )
            body = error_body(code, message, getattr(exc, "param", None))
            return JSON(body, status_code=status, headers=headers)
    raise exc


async def handle_known(request: Request, exc: Exception) -> Response:
    return error_response(exc)


async def handle_http(request: Request, exc: HTTPException) -> Response:
    code = HTTP_CODES.get(exc.status_code, "error")
    return JSON(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSON(error_body("internal_error", "An unexpected error occurred."), status_code=500)


def exception_handlers() -> dict[object, object]:
    handlers: dict[object, object] = {cls: handle_known for cls, _, _ in ERROR_TABLE}
    handlers[ApiError] = handle_known
    handlers[HTTPException] = handle_http
    handlers[500] = handle_unexpected
    return handlers
