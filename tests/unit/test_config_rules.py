"""Configuration hardening (security review, findings 6 and 7): each unsafe value is refused
with one line naming the variable."""

from __future__ import annotations

import pytest

from adapters.config import ConfigError, Settings
from adapters.config_rules import is_loopback, serve_host

STRIPE = {
    "TUCO_BILLING": "stripe",
    "STRIPE_API_KEY": "sk_test_x",
    "TUCO_PROVISIONER": "manual",  # production start-up needs these named (SPEC §7)
    "TUCO_INTERNAL_TOKEN": "internal",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
}


def refused(env: dict[str, str], *words: str) -> str:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert "\n" not in message
    assert all(w in message for w in words), message
    return message


@pytest.mark.parametrize("value", ["0", "-5", "601", "86400"])
def test_a_webhook_tolerance_outside_1_to_600_seconds_is_refused(value: str) -> None:
    refused(STRIPE | {"TUCO_STRIPE_WEBHOOK_TOLERANCE": value}, "TUCO_STRIPE_WEBHOOK_TOLERANCE")


@pytest.mark.parametrize("value", ["1", "300", "600"])
def test_a_webhook_tolerance_from_1_to_600_seconds_is_kept(value: str) -> None:
    stripe = Settings.from_env(STRIPE | {"TUCO_STRIPE_WEBHOOK_TOLERANCE": value}).stripe
    assert stripe is not None and stripe.webhook_tolerance == int(value)


@pytest.mark.parametrize("key", ["TUCO_CLERK_JWKS", "TUCO_CLERK_PUBLIC_KEY"])
def test_stripe_mode_with_clerk_needs_the_clerk_issuer(key: str) -> None:
    value = "https://clerk.example/.well-known/jwks.json" if key == "TUCO_CLERK_JWKS" else "k.pem"
    refused(STRIPE | {key: value}, "TUCO_CLERK_ISSUER")
    ok = Settings.from_env(STRIPE | {key: value, "TUCO_CLERK_ISSUER": "https://clerk.example"})
    assert ok.clerk_issuer == "https://clerk.example"


def test_the_sandbox_with_clerk_may_leave_the_issuer_unchecked() -> None:
    assert Settings.from_env({"TUCO_CLERK_PUBLIC_KEY": "k.pem"}).clerk_issuer is None


@pytest.mark.parametrize(
    "url",
    [
        "http://clerk.example/.well-known/jwks.json",
        "http://10.0.0.5/jwks.json",
        "ftp://clerk.example/jwks.json",
        "https:///no-host",
    ],
)
def test_a_jwks_url_must_be_https(url: str) -> None:
    refused({"TUCO_CLERK_JWKS": url}, "TUCO_CLERK_JWKS", "https")


@pytest.mark.parametrize(
    "value",
    [
        "https://clerk.example/.well-known/jwks.json",
        "http://127.0.0.1:8123/jwks.json",
        "http://localhost:8123/jwks.json",
        "http://[::1]:8123/jwks.json",
        "/etc/tuco/jwks.json",
    ],
)
def test_an_https_or_loopback_jwks_url_or_a_file_is_accepted(value: str) -> None:
    assert Settings.from_env({"TUCO_CLERK_JWKS": value}).clerk_jwks == value


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "::1", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    serve_host(host, {})  # the sandbox default is fine where only this machine reaches it


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "tuco.example"])
def test_serving_on_another_address_refuses_the_implicit_sandbox(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ConfigError, match="TUCO_BILLING=sandbox"):
        serve_host(host, {})
    with pytest.raises(ConfigError):
        serve_host(host, {"TUCO_BILLING": "  "})
    serve_host(host, {"TUCO_BILLING": "sandbox"})  # asked for by name
    serve_host(host, {"TUCO_BILLING": "stripe"})
