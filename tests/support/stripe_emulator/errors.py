"""Stripe-shaped API errors raised by the emulator's store and rendered by its server."""

from __future__ import annotations

from typing import Any


class EmulatedStripeError(Exception):
    """An error Stripe would answer with: an HTTP status plus an `{"error": {...}}` body.

    `replayable` says whether an idempotent request that ended with this error keeps its result
    (Stripe saves the outcome of requests that started executing, but not of requests rejected by
    parameter validation, authentication, or an outage).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        replayable: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.replayable = replayable

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        """The JSON body Stripe sends with this error."""
        error: dict[str, Any] = {
            "code": self.code,
            "doc_url": f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
            if self.code
            else None,
            "message": self.message,
            "param": self.param,
            "type": self.type,
        }
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}?t=0"
        return {"error": error}


def missing_param(param: str) -> EmulatedStripeError:
    """Stripe's answer to a required parameter that was not sent."""
    return EmulatedStripeError(
        f"Missing required param: {param}.",
        code="parameter_missing",
        param=param,
        replayable=False,
    )


def invalid_param(param: str, message: str, code: str = "parameter_invalid") -> EmulatedStripeError:
    """Stripe's answer to a parameter with an unusable value."""
    return EmulatedStripeError(message, code=code, param=param, replayable=False)


def no_such(kind: str, object_id: str, param: str = "id") -> EmulatedStripeError:
    """Stripe's 404 for an unknown id (`resource_missing`)."""
    return EmulatedStripeError(
        f"No such {kind}: '{object_id}'",
        status=404,
        code="resource_missing",
        param=param,
        replayable=False,
    )


def invalid_state(message: str, code: str | None = None) -> EmulatedStripeError:
    """A request that is well formed but not allowed in the object's current state."""
    return EmulatedStripeError(message, code=code)
