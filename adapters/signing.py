"""One Standard Webhooks signer for every signed message this service sends or receives
(outbound status webhooks, provisioning orders and callbacks), over the reference
`standardwebhooks` package."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks.webhooks import (
    EmptyWebhookSecretError,
    Webhook,
    WebhookVerificationError,
)


class InvalidSignature(Exception):
    """Missing, malformed, stale or wrong `webhook-*` headers."""


def new_secret() -> str:
    """A fresh `whsec_…` secret (24 random bytes, base64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Signer:
    """Signs and verifies messages with one `whsec_…` secret."""

    def __init__(self, secret: str) -> None:
        try:
            self._webhook = Webhook(secret)
        except (binascii.Error, ValueError, EmptyWebhookSecretError) as exc:
            raise ValueError("a webhook secret is whsec_ followed by base64") from exc

    def headers(
        self, body: bytes, msg_id: str | None = None, at: datetime | None = None
    ) -> dict[str, str]:
        """The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers for `body`."""
        msg_id = msg_id or "msg_" + secrets.token_hex(12)
        at = at or datetime.now(UTC)
        signature = self._webhook.sign(msg_id, at, body.decode())
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature,
        }

    def verify(self, body: bytes, headers: Mapping[str, str]) -> str:
        """Checks the signature and the 5-minute timestamp window; returns the message id."""
        wanted = ("webhook-id", "webhook-timestamp", "webhook-signature")
        picked = {name: headers.get(name, "") for name in wanted}
        try:
            self._webhook.verify(body, picked, json_parse=False)
        except (WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidSignature(str(exc) or "invalid signature") from None
        return picked["webhook-id"]
