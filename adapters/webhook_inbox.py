"""Verifying Stripe webhook deliveries, and remembering which events were handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import stripe
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from adapters.database import store_errors
from adapters.schema import processed_webhooks


class InvalidSignature(Exception):
    pass


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    object_id: str


class WebhookInbox:
    def __init__(self, engine: Engine, secret: str | None, tolerance: int = 300) -> None:
        self.engine = engine
        self.secret = secret
        self.tolerance = tolerance

    def verify(self, payload: bytes, signature: str | None) -> WebhookEvent:
        """The event, if `Stripe-Signature` proves Stripe sent this payload recently."""
        if not self.secret or not signature:
            raise InvalidSignature("Missing Stripe-Signature header or webhook secret.")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature, self.secret, self.tolerance
            )
            data = orjson.loads(payload)
            return WebhookEvent(
                id=str(data["id"]),
                type=str(data["type"]),
                object_id=str(data["data"]["object"]["id"]),
            )
        except stripe.SignatureVerificationError as e:
            raise InvalidSignature(f"The Stripe-Signature does not verify: {e}") from None
        except (UnicodeDecodeError, orjson.JSONDecodeError, KeyError, TypeError):
            raise InvalidSignature("The payload is not a Stripe event.") from None

    def seen(self, event_id: str) -> bool:
        query = select(processed_webhooks.c.event_id).where(
            processed_webhooks.c.event_id == event_id
        )
        with store_errors(), self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def mark_handled(self, event: WebhookEvent) -> None:
        try:
            with store_errors(), self.engine.begin() as conn:
                conn.execute(
                    processed_webhooks.insert().values(
                        event_id=event.id, type=event.type, received_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            pass  # a concurrent duplicate delivery handled it too (handling is idempotent)
