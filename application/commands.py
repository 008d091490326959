"""Typed commands: what the API and the CLI hand to the application."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from domain.decisions import LineDetails
from domain.enums import Channel, LineType, RequestSource


@dataclass(frozen=True)
class RequestLine:
    workspace_id: str
    channel: Channel
    line_type: LineType
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    source: RequestSource
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        """What makes two submissions 'the same body' for the Idempotency-Key rule."""
        body = {
            "channel": self.channel.value,
            "line_type": self.line_type.value,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def details(self) -> LineDetails:
        return LineDetails(
            workspace_id=self.workspace_id,
            channel=self.channel,
            line_type=self.line_type,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            phone=self.phone,
            source=self.source,
            idempotency_key=self.idempotency_key,
            fingerprint=self.fingerprint(),
        )


@dataclass(frozen=True)
class Pricing:
    """Add-on prices per channel, in the currency's minor unit."""

    phone_amount: int
    email_amount: int
    currency: str

    def amount(self, channel: Channel) -> int:
        return self.phone_amount if channel is Channel.PHONE else self.email_amount


@dataclass(frozen=True)
class LineDefaults:
    daily_new_conversations_limit: int
    daily_total_messages_limit: int
