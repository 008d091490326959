"""Safety rules on configuration values, each refused with a one-line `ConfigError`
(security review of 08d8a9d, finding 7; `serve` on a public address, finding 6)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

MIN_WEBHOOK_TOLERANCE = 1
MAX_WEBHOOK_TOLERANCE = 600


class ConfigError(Exception):
    """A configuration value the service refuses to start with (one line, no traceback)."""


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or `localhost`; anything else may be reached from elsewhere."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_tolerance(value: int) -> int:
    """0 would switch off the replay window (a signature from 2001 verified)."""
    if not MIN_WEBHOOK_TOLERANCE <= value <= MAX_WEBHOOK_TOLERANCE:
        raise ConfigError(
            f"TUCO_STRIPE_WEBHOOK_TOLERANCE must be from {MIN_WEBHOOK_TOLERANCE} to "
            f"{MAX_WEBHOOK_TOLERANCE} seconds, not {value}"
        )
    return value


def jwks_location(value: str | None) -> str | None:
    """A JWKS file path, or an https URL (http only to a loopback host, for tests)."""
    if value is None or "://" not in value:
        return value
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise ConfigError(f"TUCO_CLERK_JWKS is not a valid URL: {value!r}") from None
    if parts.scheme == "https" and host:
        return value
    if parts.scheme == "http" and is_loopback(host):
        return value
    raise ConfigError("TUCO_CLERK_JWKS must be an https:// URL (http:// only on loopback)")


def clerk_issuer(billing: str, clerk_configured: bool, issuer: str | None) -> None:
    """In production (Stripe billing) a Clerk token must name the expected issuer."""
    if billing == "stripe" and clerk_configured and not issuer:
        raise ConfigError(
            "TUCO_BILLING=stripe with Clerk configured needs TUCO_CLERK_ISSUER (the expected iss)"
        )


def serve_host(host: str, env: Mapping[str, str]) -> None:
    """`tuco serve` on an address others can reach must not fall back to sandbox billing
    (anyone could pay its invoices): sandbox there only when asked for by name."""
    if is_loopback(host) or env.get("TUCO_BILLING", "").strip():
        return
    raise ConfigError(
        f"tuco serve on {host} would use the sandbox billing default; "
        "set TUCO_BILLING=stripe, or TUCO_BILLING=sandbox to run the sandbox there on purpose"
    )
