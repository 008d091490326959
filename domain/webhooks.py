"""Outbound status webhooks: which line-request events go out, under which type, and the
retry and disable policy of a delivery. Pure: no I/O, no clock of its own."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from domain.errors import DomainError

# The LineRequest events that are state changes, and the message type each goes out as.
EVENT_TYPES: dict[str, str] = {
    "Requested": "line_request.requested",
    "Invoiced": "line_request.invoiced",
    "Paid": "line_request.paid",
    "ProvisioningStarted": "line_request.provisioning_started",
    "Activated": "line_request.activated",
    "ProvisioningFailed": "line_request.failed",
    "Canceled": "line_request.canceled",
    "Refunded": "line_request.refunded",
}
TEST_EVENT_TYPE = "webhook.test"
MAX_ENDPOINTS = 16


class DeliveryStatus(Enum):
    PENDING = "pending"  # not sent yet, or waiting for its next attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # given up: the endpoint was disabled (redeliver sends it again)


class EndpointStatus(Enum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class EndpointLimitReached(DomainError):
    param = "url"

    def __init__(self, workspace_id: str, limit: int) -> None:
        super().__init__(f"Workspace {workspace_id} already has its maximum of {limit} endpoints.")


class EndpointDisabled(DomainError):
    def __init__(self, endpoint_id: str) -> None:
        super().__init__(
            f"Webhook endpoint {endpoint_id} is disabled; enable it before redelivering."
        )


@dataclass(frozen=True)
class Failure:
    """What to do after a failed attempt: try again at `retry_at`, or, once the endpoint
    has been failing for the whole window, disable it (`retry_at` is None)."""

    retry_at: datetime | None

    @property
    def disable(self) -> bool:
        return self.retry_at is None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n waits `base` * 2^(n-1), capped at
    `cap`, then a random 50 to 100 % of that (so endpoints that failed together do not all
    come back together). An endpoint failing for `disable_after` is disabled."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    disable_after: timedelta = timedelta(hours=24)

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        ceiling = min(self.cap, self.base * (1 << min(max(attempts - 1, 0), 30)))
        fraction: float = 0.5 + (rng or random).random() / 2
        return ceiling * fraction

    def after_failure(
        self,
        attempts: int,
        failing_since: datetime,
        now: datetime,
        rng: random.Random | None = None,
    ) -> Failure:
        if now - failing_since >= self.disable_after:
            return Failure(retry_at=None)
        return Failure(retry_at=now + self.delay(attempts, rng))
