"""Webhook endpoints and the delivery outbox in SQL: the `WebhookStore` the endpoint
management uses and the `DeliveryQueue` the sender works (application/outbound.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from adapters.schema import webhook_deliveries, webhook_endpoints
from application.outbound import DeliveryQueue
from application.webhooks import Delivery, Endpoint, Message, SendResult, WebhookStore
from domain.webhooks import DeliveryStatus, EndpointLimitReached
from projections.runner import lock_projection

OUTBOX = "webhook_outbox"  # the outbox projection's name (its position and lock)
d = webhook_deliveries.c
e = webhook_endpoints.c
PENDING = DeliveryStatus.PENDING.value


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def endpoint_of(row: Any) -> Endpoint:
    return Endpoint(
        id=row.id,
        workspace_id=row.workspace_id,
        url=row.url,
        created_at=utc(row.created_at) or row.created_at,
        failing_since=utc(row.failing_since),
        disabled_at=utc(row.disabled_at),
        disabled_reason=row.disabled_reason,
    )


def delivery_of(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        workspace_id=row.workspace_id,
        position=row.position,
        event_type=row.event_type,
        request_id=row.request_id,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        created_at=utc(row.created_at) or row.created_at,
        next_attempt_at=utc(row.next_attempt_at) or row.next_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        delivered_at=utc(row.delivered_at),
    )


def _unclaimed(now: datetime) -> Any:
    return or_(d.claim_expires_at.is_(None), d.claim_expires_at <= now)


class SqlWebhookStore(WebhookStore, DeliveryQueue):
    def __init__(self, write_engine: Engine, read_engine: Engine) -> None:
        self.write_engine = write_engine
        self.read_engine = read_engine

    # --- endpoints -----------------------------------------------------------------------

    def add_endpoint(self, endpoint: Endpoint, secret: str, limit: int) -> None:
        with self.write_engine.begin() as conn:
            # Taken with the outbox's lock: every outbox pass after this sees the endpoint.
            lock_projection(conn, OUTBOX)
            held = conn.execute(
                select(func.count()).where(e.workspace_id == endpoint.workspace_id)
            ).scalar_one()
            if held >= limit:
                raise EndpointLimitReached(endpoint.workspace_id, limit)
            conn.execute(
                webhook_endpoints.insert().values(
                    id=endpoint.id,
                    workspace_id=endpoint.workspace_id,
                    url=endpoint.url,
                    secret=secret,
                    created_at=endpoint.created_at,
                )
            )

    def endpoints(self, workspace_id: str) -> list[Endpoint]:
        query = select(webhook_endpoints).where(e.workspace_id == workspace_id)
        with self.read_engine.connect() as conn:
            rows = conn.execute(query.order_by(e.created_at, e.id)).all()
        return [endpoint_of(r) for r in rows]

    def secret_of(self, workspace_id: str, endpoint_id: str) -> tuple[Endpoint, str] | None:
        query = select(webhook_endpoints).where(e.workspace_id == workspace_id, e.id == endpoint_id)
        with self.read_engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (endpoint_of(row), row.secret)

    def remove_endpoint(self, workspace_id: str, endpoint_id: str) -> bool:
        with self.write_engine.begin() as conn:
            gone = conn.execute(
                delete(webhook_endpoints).where(e.workspace_id == workspace_id, e.id == endpoint_id)
            ).rowcount
            if gone:
                conn.execute(delete(webhook_deliveries).where(d.endpoint_id == endpoint_id))
        return bool(gone)

    def enable_endpoint(self, workspace_id: str, endpoint_id: str) -> bool:
        with self.write_engine.begin() as conn:
            changed = conn.execute(
                update(webhook_endpoints)
                .where(e.workspace_id == workspace_id, e.id == endpoint_id)
                .values(disabled_at=None, disabled_reason=None, failing_since=None)
            ).rowcount
        return bool(changed)

    # --- the delivery log ----------------------------------------------------------------

    def deliveries(
        self, workspace_id: str, limit: int, status: DeliveryStatus | None = None
    ) -> list[Delivery]:
        query = select(webhook_deliveries).where(d.workspace_id == workspace_id)
        if status is not None:
            query = query.where(d.status == status.value)
        query = query.order_by(d.position.desc(), d.endpoint_id).limit(limit)
        with self.read_engine.connect() as conn:
            return [delivery_of(r) for r in conn.execute(query)]

    def delivery(self, delivery_id: str) -> Delivery | None:
        with self.read_engine.connect() as conn:
            row = conn.execute(select(webhook_deliveries).where(d.id == delivery_id)).first()
        return None if row is None else delivery_of(row)

    def redeliver(self, delivery_id: str, now: datetime) -> None:
        with self.write_engine.begin() as conn:
            conn.execute(
                update(webhook_deliveries)
                .where(d.id == delivery_id)
                .values(
                    status=PENDING, next_attempt_at=now, delivered_at=None,
                    claimed_by=None, claim_expires_at=None,
                )
            )  # fmt: skip

    # --- the sender's queue ----------------------------------------------------------------

    def has_due(self, now: datetime) -> bool:
        query = (
            select(d.id)
            .where(d.status == PENDING, d.next_attempt_at <= now, _unclaimed(now))
            .limit(1)
        )
        with self.read_engine.connect() as conn:
            return conn.execute(query).first() is not None

    def claim(self, holder: str, now: datetime, until: datetime, limit: int) -> list[Message]:
        earlier = aliased(webhook_deliveries)
        held_back = exists().where(
            earlier.c.endpoint_id == d.endpoint_id,
            earlier.c.status == PENDING,
            earlier.c.position < d.position,
            or_(earlier.c.next_attempt_at > now, earlier.c.claim_expires_at > now),
        )
        due = (
            select(d.id)
            .join(webhook_endpoints, e.id == d.endpoint_id)
            .where(
                d.status == PENDING, d.next_attempt_at <= now, _unclaimed(now),
                e.disabled_at.is_(None), ~held_back,
            )
            .order_by(d.position)
            .limit(limit)
        )  # fmt: skip
        with self.write_engine.begin() as conn:
            ids = [r.id for r in conn.execute(due)]
            if not ids:
                return []
            taken = (
                conn.execute(
                    update(webhook_deliveries)
                    .where(d.id.in_(ids), d.status == PENDING, _unclaimed(now))
                    .values(claimed_by=holder, claim_expires_at=until)
                    .returning(d.id)
                )
                .scalars()
                .all()
            )
            return self._messages(conn, list(taken))

    def _messages(self, conn: Connection, ids: list[str]) -> list[Message]:
        if not ids:
            return []
        query = (
            select(webhook_deliveries, e.url, e.secret)
            .join(webhook_endpoints, e.id == d.endpoint_id)
            .where(d.id.in_(ids))
            .order_by(d.position)
        )
        return [
            Message(delivery_of(r), r.url, r.secret, r.payload.encode())
            for r in conn.execute(query)
        ]

    def _mine(self, msg: Message, holder: str) -> Any:
        return and_(d.id == msg.delivery.id, d.claimed_by == holder)

    def delivered(self, msg: Message, holder: str, now: datetime, status: int | None) -> None:
        with self.write_engine.begin() as conn:
            conn.execute(
                update(webhook_deliveries)
                .where(self._mine(msg, holder))
                .values(
                    status=DeliveryStatus.DELIVERED.value, attempts=d.attempts + 1,
                    last_status=status, last_error=None, delivered_at=now,
                    claimed_by=None, claim_expires_at=None,
                )
            )  # fmt: skip
            conn.execute(
                update(webhook_endpoints)
                .where(e.id == msg.delivery.endpoint_id, e.failing_since.is_not(None))
                .values(failing_since=None)
            )

    def failing_since(self, endpoint_id: str, now: datetime) -> datetime:
        with self.write_engine.begin() as conn:
            conn.execute(
                update(webhook_endpoints)
                .where(e.id == endpoint_id, e.failing_since.is_(None))
                .values(failing_since=now)
            )
            since = conn.execute(select(e.failing_since).where(e.id == endpoint_id)).scalar()
        return utc(since) or now

    def retry_later(
        self, msg: Message, holder: str, result: SendResult, now: datetime, at: datetime
    ) -> None:
        with self.write_engine.begin() as conn:
            conn.execute(
                update(webhook_deliveries)
                .where(self._mine(msg, holder))
                .values(
                    attempts=d.attempts + 1, last_status=result.status_code,
                    last_error=(result.describe())[:500], next_attempt_at=at,
                    claimed_by=None, claim_expires_at=None,
                )
            )  # fmt: skip

    def disable(self, msg: Message, result: SendResult, now: datetime, reason: str) -> None:
        endpoint_id = msg.delivery.endpoint_id
        with self.write_engine.begin() as conn:
            conn.execute(
                update(webhook_endpoints)
                .where(e.id == endpoint_id)
                .values(disabled_at=now, disabled_reason=reason[:500])
            )
            conn.execute(
                update(webhook_deliveries)
                .where(d.id == msg.delivery.id)
                .values(
                    attempts=d.attempts + 1,
                    last_status=result.status_code,
                    last_error=result.describe()[:500],
                )
            )
            conn.execute(
                update(webhook_deliveries)
                .where(d.endpoint_id == endpoint_id, d.status == PENDING)
                .values(status=DeliveryStatus.FAILED.value, claimed_by=None, claim_expires_at=None)
            )

    def release(self, msgs: list[Message], holder: str) -> None:
        if not msgs:
            return
        ids = [m.delivery.id for m in msgs]
        with self.write_engine.begin() as conn:
            conn.execute(
                update(webhook_deliveries)
                .where(d.id.in_(ids), d.claimed_by == holder)
                .values(claimed_by=None, claim_expires_at=None)
            )
