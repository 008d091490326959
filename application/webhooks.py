"""Outbound status webhooks as the application sees them: each workspace's endpoints (URL
and signing secret), the log of deliveries, and the ports their storage and transport
implement. Endpoints are managed here; messages are sent by `application.outbound`."""

from __future__ import annotations

import builtins
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from application.ports import Clock
from domain import bounds
from domain.errors import NotFound
from domain.webhooks import (
    MAX_ENDPOINTS,
    TEST_EVENT_TYPE,
    DeliveryStatus,
    EndpointDisabled,
    EndpointStatus,
)

# Ids are checked before any query: a malformed one is simply not found.
ENDPOINT_ID = re.compile(r"^we_[0-9a-f]{24}$")
DELIVERY_ID = re.compile(r"^msg_[0-9a-f]{32}$")


@dataclass(frozen=True)
class Endpoint:
    id: str
    workspace_id: str
    url: str
    created_at: datetime
    failing_since: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    @property
    def status(self) -> EndpointStatus:
        return EndpointStatus.DISABLED if self.disabled_at else EndpointStatus.ENABLED


@dataclass(frozen=True)
class Delivery:
    """One message to one endpoint (its id is the message's `webhook-id`)."""

    id: str
    endpoint_id: str
    workspace_id: str
    position: int
    event_type: str
    request_id: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class Message:
    """A claimed delivery, with what sending it takes."""

    delivery: Delivery
    url: str
    secret: str
    payload: bytes


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None = None
    error: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"delivered ({self.status_code})"
        return self.error or f"answered {self.status_code}"


class WebhookStore(ABC):
    """Endpoints and the delivery log, per workspace (another workspace's ids are not
    found)."""

    @abstractmethod
    def add_endpoint(self, endpoint: Endpoint, secret: str, limit: int) -> None:
        """Store a new endpoint; `EndpointLimitReached` when the workspace has `limit`.
        Every event committed after this returns is delivered to it."""

    @abstractmethod
    def endpoints(self, workspace_id: str) -> list[Endpoint]:
        """The workspace's endpoints, oldest first."""

    @abstractmethod
    def secret_of(self, workspace_id: str, endpoint_id: str) -> tuple[Endpoint, str] | None:
        """One endpoint and its signing secret."""

    @abstractmethod
    def remove_endpoint(self, workspace_id: str, endpoint_id: str) -> bool:
        """Delete an endpoint and its deliveries; False if the workspace has no such one."""

    @abstractmethod
    def enable_endpoint(self, workspace_id: str, endpoint_id: str) -> bool:
        """Enable a disabled endpoint (its failure clock starts again)."""

    @abstractmethod
    def deliveries(
        self, workspace_id: str, limit: int, status: DeliveryStatus | None = None
    ) -> list[Delivery]:
        """The workspace's deliveries, newest first."""

    @abstractmethod
    def delivery(self, delivery_id: str) -> Delivery | None: ...

    @abstractmethod
    def redeliver(self, delivery_id: str, now: datetime) -> None:
        """Make a delivery pending again, due now."""


class Transport(ABC):
    """Sends one signed message (Standard Webhooks headers) and never raises for the
    endpoint's sake: a refusal or an unreachable host is a result."""

    @abstractmethod
    def send(self, url: str, secret: str, msg_id: str, payload: bytes) -> SendResult: ...

    @abstractmethod
    def close(self) -> None:
        """Release its connections."""


def message_body(event_type: str, at: datetime, data: dict[str, Any]) -> bytes:
    """The JSON every message carries: `type`, `timestamp` and `data`."""
    stamp = at.isoformat().replace("+00:00", "Z")
    return orjson.dumps({"type": event_type, "timestamp": stamp, "data": data})


class WebhookEndpoints:
    """What operators (`tuco webhooks`) and API keys (`/api/webhook-endpoints`) do."""

    def __init__(
        self,
        store: WebhookStore,
        transport: Transport,
        clock: Clock,
        new_secret: Callable[[], str],
        limit: int = MAX_ENDPOINTS,
    ) -> None:
        self.store = store
        self.transport = transport
        self.clock = clock
        self.new_secret = new_secret
        self.limit = limit

    def add(self, workspace_id: str, url: object) -> tuple[Endpoint, str]:
        """A new endpoint and its `whsec_` secret (shown once: only its holder needs it)."""
        checked = bounds.http_url("url", url)
        endpoint = Endpoint("we_" + secrets.token_hex(12), workspace_id, checked, self.clock.now())
        secret = self.new_secret()
        self.store.add_endpoint(endpoint, secret, self.limit)
        return endpoint, secret

    def list(self, workspace_id: str) -> list[Endpoint]:
        return self.store.endpoints(workspace_id)

    def get(self, workspace_id: str, endpoint_id: str) -> Endpoint:
        return self._find(workspace_id, endpoint_id)[0]

    def remove(self, workspace_id: str, endpoint_id: str) -> None:
        if not ENDPOINT_ID.match(endpoint_id) or not self.store.remove_endpoint(
            workspace_id, endpoint_id
        ):
            raise NotFound("webhook endpoint", endpoint_id)

    def enable(self, workspace_id: str, endpoint_id: str) -> Endpoint:
        if not ENDPOINT_ID.match(endpoint_id) or not self.store.enable_endpoint(
            workspace_id, endpoint_id
        ):
            raise NotFound("webhook endpoint", endpoint_id)
        return self.get(workspace_id, endpoint_id)

    def test(
        self, workspace_id: str, endpoint_id: str | None = None
    ) -> builtins.list[tuple[Endpoint, SendResult]]:
        """Send a signed `webhook.test` message now to one endpoint, or to every enabled
        one of the workspace; it is not a state change and is not logged as a delivery."""
        if endpoint_id is not None:
            targets = [self._find(workspace_id, endpoint_id)]
        else:
            targets = [
                self._find(workspace_id, e.id)
                for e in self.list(workspace_id)
                if e.status is EndpointStatus.ENABLED
            ]
        results = []
        for endpoint, secret in targets:
            data = {"workspaceId": workspace_id, "endpointId": endpoint.id}
            body = message_body(TEST_EVENT_TYPE, self.clock.now(), data)
            msg_id = "msg_" + secrets.token_hex(16)
            results.append((endpoint, self.transport.send(endpoint.url, secret, msg_id, body)))
        return results

    def deliveries(
        self, workspace_id: str, limit: int = 50, status: DeliveryStatus | None = None
    ) -> builtins.list[Delivery]:
        return self.store.deliveries(workspace_id, bounds.count("limit", limit, 1000), status)

    def delivery(self, delivery_id: str, workspace_id: str | None = None) -> Delivery:
        found = self.store.delivery(delivery_id) if DELIVERY_ID.match(delivery_id) else None
        if found is None or (workspace_id is not None and found.workspace_id != workspace_id):
            raise NotFound("webhook delivery", delivery_id)
        return found

    def redeliver(self, delivery_id: str, workspace_id: str | None = None) -> Delivery:
        """Send one delivery again (as soon as the sender's next pass), whatever its status."""
        found = self.delivery(delivery_id, workspace_id)
        endpoint = self.get(found.workspace_id, found.endpoint_id)
        if endpoint.status is EndpointStatus.DISABLED:
            raise EndpointDisabled(endpoint.id)
        self.store.redeliver(delivery_id, self.clock.now())
        return self.delivery(delivery_id)

    def _find(self, workspace_id: str, endpoint_id: str) -> tuple[Endpoint, str]:
        found = (
            self.store.secret_of(workspace_id, endpoint_id)
            if ENDPOINT_ID.match(endpoint_id)
            else None
        )
        if found is None:
            raise NotFound("webhook endpoint", endpoint_id)
        return found
