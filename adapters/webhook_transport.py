"""Outbound webhook messages over HTTP: a signed JSON POST (Standard Webhooks headers from
the one signer, `adapters/signing.py`) with short time-outs and no redirects."""

from __future__ import annotations

import httpx

from adapters.signing import Signer
from application.webhooks import SendResult, Transport

USER_AGENT = "tuco-webhooks/1"


class HttpTransport(Transport):
    """2xx is delivered; any other answer, a time-out or a refused connection is a failed
    attempt (retried by the sender's policy). The answer's body is never read."""

    def __init__(self, timeout: float = 5.0, connect_timeout: float = 2.0) -> None:
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def send(self, url: str, secret: str, msg_id: str, payload: bytes) -> SendResult:
        headers = {"Content-Type": "application/json", **Signer(secret).headers(payload, msg_id)}
        try:
            request = self.client.build_request("POST", url, content=payload, headers=headers)
            answer = self.client.send(request, stream=True)
            answer.close()
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
        ok = 200 <= answer.status_code < 300
        return SendResult(ok, answer.status_code, None if ok else f"HTTP {answer.status_code}")

    def close(self) -> None:
        self.client.close()
