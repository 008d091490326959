"""Notifiers for health changes: a signed JSON POST to a URL, or the log."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import httpx
import orjson

from application.health import HealthNotice, Notifier

log = logging.getLogger(__name__)


def notice_body(notice: HealthNotice) -> bytes:
    return orjson.dumps(
        {
            "type": "line.health_changed",
            "lineId": str(notice.line_id),
            "workspaceId": notice.workspace_id,
            "status": notice.status.value,
            "previousStatus": notice.previous.value,
            "failures": notice.failures,
            "checkedAt": notice.checked_at.isoformat().replace("+00:00", "Z"),
        }
    )


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """`t=…,v1=HMAC-SHA256(secret, "t.body")`, the same scheme Stripe uses."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class WebhookNotifier(Notifier):
    def __init__(self, url: str, secret: str, timeout: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def notify(self, notice: HealthNotice) -> bool:
        body = notice_body(notice)
        headers = {
            "Content-Type": "application/json",
            "Tuco-Signature": signature(self.secret, body, int(time.time())),
        }
        try:
            answer = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as e:
            log.warning("health notice for %s not delivered: %s", notice.line_id, e)
            return False
        return answer.is_success


class LogNotifier(Notifier):
    def notify(self, notice: HealthNotice) -> bool:
        log.warning(
            "line %s of %s is now %s (was %s): %s",
            notice.line_id, notice.workspace_id, notice.status.value, notice.previous.value,
            "; ".join(notice.failures) or "no failures",
        )  # fmt: skip
        return True
