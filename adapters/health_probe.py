"""The real health probe: the line's server over HTTP, with short timeouts."""

from __future__ import annotations

import httpx

from application.health import HealthProbe, ProbeResult
from domain.enums import Channel, HealthStatus


class HttpHealthProbe(HealthProbe):
    def __init__(self, timeout: float = 2.0) -> None:
        self.timeout = timeout

    def probe(self, server_url: str, channel: Channel) -> ProbeResult:
        base = server_url.rstrip("/")
        failures: list[str] = []
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            up = self._get(client, f"{base}/health", "server", failures)
            if up is not None and up.status_code != 200:
                failures.append(f"server: /health answered HTTP {up.status_code}")
            if channel is Channel.PHONE:
                self._imessage(client, base, failures)
        status = HealthStatus.UNHEALTHY if failures else HealthStatus.HEALTHY
        return ProbeResult(status=status, failures=failures)

    def _imessage(self, client: httpx.Client, base: str, failures: list[str]) -> None:
        answer = self._get(client, f"{base}/imessage/status", "imessage", failures)
        if answer is None:
            return
        if answer.status_code != 200:
            failures.append(f"imessage: /imessage/status answered HTTP {answer.status_code}")
            return
        try:
            available = answer.json().get("available")
        except (ValueError, AttributeError):
            available = None
        if available is not True:
            failures.append("imessage: unavailable")

    @staticmethod
    def _get(
        client: httpx.Client, url: str, what: str, failures: list[str]
    ) -> httpx.Response | None:
        try:
            return client.get(url)
        except httpx.TimeoutException:
            failures.append(f"{what}: timed out")
        except httpx.HTTPError as e:
            failures.append(f"{what}: unreachable ({type(e).__name__})")
        return None
