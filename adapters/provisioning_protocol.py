"""The provisioning service's wire format (SPEC §7): order bodies, answers (a callback's
body, or a poll's), and verifying callbacks, each bound to the one request it names."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import Enum
from uuid import UUID

import msgspec
import orjson
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from adapters.schema import provisioning_messages
from adapters.signing import InvalidSignature, Signer
from application.ports import Clock, ProvisioningOrder, ProvisioningOutcome, ProvisioningState
from domain.errors import InvalidValue

MAX_REASON = 500  # what ProvisioningFailed keeps (domain/bounds)
# Signatures older than 5 minutes do not verify; ids are kept a while longer than that.
KEEP_MESSAGE_IDS = timedelta(minutes=10)


def order_body(order: ProvisioningOrder, callback_url: str) -> bytes:
    """`POST {url}/orders`: the request id is the order id, so a re-sent order dedupes."""
    return orjson.dumps(
        {
            "id": str(order.request_id),
            "workspaceId": order.workspace_id,
            "channel": order.channel.value,
            "lineType": order.line_type.value,
            "firstName": order.first_name,
            "lastName": order.last_name,
            "email": order.email,
            "phone": order.phone,
            "callbackUrl": callback_url,
        }
    )


class AnswerStatus(Enum):
    ACTIVE = "active"
    FAILED = "failed"
    PENDING = "pending"  # only a poll's answer


class ProviderAnswer(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """A callback's body, or a poll's answer: `{"status": "active", "phone"?, "email"?,
    "serverUrl"?, "providerRef"?}`, `{"status": "failed", "reason"}`, or (polls only)
    `{"status": "pending"}`. The values (E.164, URL, …) are checked by the domain before
    anything is recorded."""

    status: AnswerStatus
    phone: str | None = None
    email: str | None = None
    server_url: str | None = None
    provider_ref: str | None = None
    reason: str | None = None


def outcome_of(answer: ProviderAnswer, *, pending_allowed: bool = False) -> ProvisioningOutcome:
    if answer.status is AnswerStatus.PENDING and not pending_allowed:
        raise InvalidValue("status", "A callback's status is active or failed.")
    reason = (answer.reason or "").strip()
    if answer.status is AnswerStatus.FAILED and not reason:
        raise InvalidValue("reason", "A failed answer needs its reason.")
    return ProvisioningOutcome(
        ProvisioningState(answer.status.value),
        phone=answer.phone,
        email=answer.email,
        provider_ref=answer.provider_ref,
        server_url=answer.server_url,
        reason=reason[:MAX_REASON] or None,
    )


def parse_answer(body: bytes, *, pending_allowed: bool = False) -> ProvisioningOutcome:
    """A provider's answer from its JSON (InvalidValue when it is not one)."""
    try:
        answer = msgspec.json.decode(body, type=ProviderAnswer)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise InvalidValue(None, f"Not a provisioning answer: {e}") from None
    return outcome_of(answer, pending_allowed=pending_allowed)


class ProvisioningCallbacks:
    """Verifies `POST /internal/provisioning/{id}` (Standard Webhooks, the provisioner's
    secret) and binds each message id to the first request it names."""

    def __init__(self, engine: Engine, signer: Signer, clock: Clock) -> None:
        self.engine = engine
        self.signer = signer
        self.clock = clock

    def verify(self, body: bytes, headers: Mapping[str, str]) -> str:
        """The message id; InvalidSignature for a bad, missing or stale signature."""
        return self.signer.verify(body, headers)

    def bind(self, message_id: str, request_id: UUID) -> None:
        """The signature does not cover the URL: a message id already used for another
        request is a replay there (InvalidSignature). The same request again is a
        duplicate delivery, which recording handles."""
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(provisioning_messages).where(
                        provisioning_messages.c.received_at < now - KEEP_MESSAGE_IDS
                    )
                )
                conn.execute(
                    provisioning_messages.insert().values(
                        message_id=message_id, request_id=str(request_id), received_at=now
                    )
                )
        except IntegrityError:
            query = select(provisioning_messages.c.request_id).where(
                provisioning_messages.c.message_id == message_id
            )
            with self.engine.connect() as conn:
                bound = conn.execute(query).scalar()
            if bound != str(request_id):
                raise InvalidSignature(
                    "This callback was signed for another line request."
                ) from None
