"""The http provisioner (SPEC §7): signed orders to a provisioning service, and polling
for requests whose callback did not arrive."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import Engine, Row, delete, select, update
from sqlalchemy.exc import IntegrityError

from adapters.provisioning_protocol import order_body, parse_answer
from adapters.schema import provisioning_orders
from adapters.signing import Signer
from application.ports import (
    Clock,
    Provisioner,
    ProvisionerUnavailable,
    ProvisioningOrder,
    ProvisioningOutcome,
    ProvisioningState,
)
from domain.errors import InvalidValue

PENDING = ProvisioningOutcome(ProvisioningState.PENDING)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class HttpProvisioner(Provisioner):
    """The worker's first call for a request sends its order (`POST {url}/orders`, signed;
    any 2xx is accepted, anything else raises ProvisionerUnavailable so the worker retries
    with backoff). The answer normally comes by callback. A request still in provisioning
    `poll_seconds` after it started is polled (`GET {url}/orders/{id}`, signed), then again
    every `poll_seconds`; a provider that does not know the order gets it again."""

    def __init__(
        self,
        base_url: str,
        signer: Signer,
        public_url: str,
        engine: Engine,
        clock: Clock,
        poll_seconds: float = 60.0,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.public_url = public_url.rstrip("/")
        self.engine = engine
        self.clock = clock
        self.poll_every = timedelta(seconds=poll_seconds)
        self.timeout = timeout

    def callback_url(self, request_id: UUID) -> str:
        return f"{self.public_url}/internal/provisioning/{request_id}"

    def provision(self, order: ProvisioningOrder) -> ProvisioningOutcome:
        now = self.clock.now()
        row = self._order(order.request_id)
        if row is None:
            self._send(order)
            self._sent(order.request_id, now)
            return PENDING
        last = _utc(row.polled_at) if row.polled_at is not None else order.started_at
        if now - last < self.poll_every:
            return PENDING
        outcome = self._poll(order.request_id)
        self._polled(order.request_id, now)
        return outcome

    # --- the provisioning service ----------------------------------------------------------

    def _send(self, order: ProvisioningOrder) -> None:
        body = order_body(order, self.callback_url(order.request_id))
        headers = self.signer.headers(body, msg_id=f"order_{order.request_id.hex}")
        headers["content-type"] = "application/json"
        answer = self._call("POST", f"{self.base_url}/orders", body, headers)
        if not 200 <= answer.status_code < 300:
            raise ProvisionerUnavailable(
                f"the provisioning service refused order {order.request_id}: "
                f"HTTP {answer.status_code}"
            )

    def _poll(self, request_id: UUID) -> ProvisioningOutcome:
        headers = self.signer.headers(b"", msg_id="poll_" + secrets.token_hex(12))
        answer = self._call("GET", f"{self.base_url}/orders/{request_id}", b"", headers)
        if answer.status_code == 404:
            self._forget(request_id)  # it lost the order: send it again next time
            return PENDING
        if answer.status_code != 200:
            raise ProvisionerUnavailable(
                f"the provisioning service answered HTTP {answer.status_code} "
                f"for order {request_id}"
            )
        try:
            return parse_answer(answer.content, pending_allowed=True)
        except InvalidValue as e:
            raise ProvisionerUnavailable(
                f"the provisioning service's answer for {request_id} is malformed: {e}"
            ) from None

    def _call(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
                return client.request(method, url, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise ProvisionerUnavailable(
                f"the provisioning service is unreachable ({type(e).__name__})"
            ) from None

    # --- what was sent, and when it was last polled ----------------------------------------

    def _order(self, request_id: UUID) -> Row[Any] | None:
        query = select(provisioning_orders).where(
            provisioning_orders.c.request_id == str(request_id)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first()

    def _sent(self, request_id: UUID, at: datetime) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    provisioning_orders.insert().values(request_id=str(request_id), sent_at=at)
                )
        except IntegrityError:
            pass  # another worker sent it too; the provider dedupes by id

    def _polled(self, request_id: UUID, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(provisioning_orders)
                .where(provisioning_orders.c.request_id == str(request_id))
                .values(polled_at=at)
            )

    def _forget(self, request_id: UUID) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(provisioning_orders).where(
                    provisioning_orders.c.request_id == str(request_id)
                )
            )
