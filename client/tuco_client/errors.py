"""One exception class per SPEC error code; `TucoError.from_response` picks it."""

from __future__ import annotations

import re
from typing import Any, ClassVar

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class TucoError(Exception):
    """An error answer: `{"error": {"code", "message", "param"?}}` with its HTTP status."""

    code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        param: str | None = None,
        body: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = code or self.code
        self.param = param
        self.body = body or {}
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f" ({self.param})" if self.param else ""
        return f"{self.status} {self.error_code}{where}: {self.message}"

    @staticmethod
    def from_response(status: int, body: Any, retry_after: float | None = None) -> TucoError:
        """The typed error for an answer; an unknown code or a body not in the SPEC's shape
        still gives a TucoError carrying the status."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return TucoError(f"HTTP {status}", status=status, retry_after=retry_after)
        code = str(error.get("code", "error"))
        cls = ERRORS.get(code, TucoError)
        message = str(error.get("message", ""))
        param = error.get("param")
        return cls(
            message,
            status=status,
            code=code,
            param=param if isinstance(param, str) else None,
            body=error,
            retry_after=retry_after,
        )


class Unauthorized(TucoError):
    code = "unauthorized"


class Forbidden(TucoError):
    code = "forbidden"


class NotFound(TucoError):
    code = "not_found"


class ValidationError(TucoError):
    """422: `param` names the field, header or query parameter refused."""

    code = "validation_error"


class SubscriptionRequired(TucoError):
    code = "subscription_required"


class ChannelNotAvailable(TucoError):
    code = "channel_not_available"


class LineLimitReached(TucoError):
    code = "line_limit_reached"


class PaymentPending(TucoError):
    """409: another request of the workspace awaits payment; pay or cancel it first."""

    code = "payment_pending"

    @property
    def request_id(self) -> str | None:
        """The pending request's id: the error's `requestId` (SPEC §7), or the id the
        message names (servers from before that field)."""
        value = self.body.get("requestId")
        if isinstance(value, str):
            return value
        found = _UUID.search(self.message)
        return found.group(0) if found else None


class InvalidTransition(TucoError):
    code = "invalid_transition"


class IdempotencyConflict(TucoError):
    code = "idempotency_conflict"


class Conflict(TucoError):
    code = "conflict"


class LineNotCheckable(TucoError):
    code = "line_not_checkable"


class InvalidSignature(TucoError):
    code = "invalid_signature"


class MethodNotAllowed(TucoError):
    code = "method_not_allowed"


class PayloadTooLarge(TucoError):
    code = "payload_too_large"


class UnsupportedMediaType(TucoError):
    code = "unsupported_media_type"


class RateLimited(TucoError):
    """429: `retry_after` says how long to wait (the client already waited and retried)."""

    code = "rate_limited"


class ServiceUnavailable(TucoError):
    code = "service_unavailable"


class InternalError(TucoError):
    code = "internal_error"


ERRORS: dict[str, type[TucoError]] = {
    cls.code: cls
    for cls in (
        Unauthorized, Forbidden, NotFound, ValidationError, SubscriptionRequired,
        ChannelNotAvailable, LineLimitReached, PaymentPending, InvalidTransition,
        IdempotencyConflict, Conflict, LineNotCheckable, InvalidSignature, MethodNotAllowed,
        PayloadTooLarge, UnsupportedMediaType, RateLimited, ServiceUnavailable, InternalError,
    )
}  # fmt: skip


class WaitTimeout(TimeoutError):
    """`wait_for` gave up: the request did not reach the status in time."""

    def __init__(self, request_id: str, wanted: str, last: str | None) -> None:
        super().__init__(f"Line request {request_id} is {last}, not {wanted}, after the timeout.")
        self.request_id = request_id
        self.last_status = last


class UnexpectedStatus(Exception):
    """`wait_for`: the request ended in another final status, so it will never get there."""

    def __init__(self, request_id: str, wanted: str, reached: str) -> None:
        super().__init__(f"Line request {request_id} ended {reached}; it will not be {wanted}.")
        self.request_id = request_id
        self.reached = reached
