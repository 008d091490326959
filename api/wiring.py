"""The adapters `api.bootstrap.build` picks from the settings: billing (sandbox or Stripe),
the outbound webhooks with their outbox, the health-check notifier and probe budget, and the
Clerk token verifier."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import msgspec

from adapters.clerk import ClerkVerifier
from adapters.config import ConfigError, Settings
from adapters.database import Database
from adapters.lease import default_holder
from adapters.notifier import LogNotifier, WebhookNotifier
from adapters.sandbox_billing import SandboxBilling
from adapters.signing import new_secret
from adapters.stripe_billing import StripeBilling, StripePrices, with_client
from adapters.stripe_subscriptions import StripeSubscriptions
from adapters.webhook_outbox import WebhookOutbox
from adapters.webhook_store import SqlWebhookStore
from adapters.webhook_transport import HttpTransport
from api import render
from api.limits import TokenBuckets
from application.app import LinesApp
from application.health import Notifier
from application.metrics import Tally
from application.outbound import OutboundSender
from application.ports import Billing, Clock, Subscriptions
from application.webhooks import WebhookEndpoints
from domain.webhooks import RetryPolicy
from projections.eventlog import ApplicationLog


def billing(
    settings: Settings, database: Database, clock: Clock
) -> tuple[Billing, Subscriptions | None]:
    if settings.billing == "sandbox":
        sandbox = SandboxBilling(
            database.write_engine, database.read_engine, settings.public_url, clock
        )
        return sandbox, None
    cfg = settings.stripe
    if cfg is None:
        raise ConfigError("TUCO_BILLING=stripe needs STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET")
    client = with_client(cfg.api_key, cfg.api_base, cfg.timeout)
    prices = StripePrices(phone=cfg.price_phone, email=cfg.price_email)
    stripe_billing = StripeBilling(client, database.write_engine, cfg.days_until_due, prices)
    return stripe_billing, StripeSubscriptions(client, cfg.plan_prices, database.write_engine)


def probe_budget(settings: Settings) -> Callable[[str], float] | None:
    """New dashboard probes per workspace: TUCO_HEALTH_RATE_LIMIT a minute, in bursts of
    as many (None: no limit)."""
    per_minute = settings.health_rate_limit
    return TokenBuckets(per_minute / 60.0, per_minute).take if per_minute > 0 else None


def webhooks(
    settings: Settings, database: Database, app: LinesApp, clock: Clock, tally: Tally
) -> dict[str, Any]:
    """Endpoint management, and the sender with its outbox (which follows the log)."""
    store = SqlWebhookStore(database.write_engine, database.read_engine)
    transport = HttpTransport(settings.webhook_timeout)

    def line(view: Any) -> dict[str, Any]:  # the LINE as of the event; usage is not in it
        body: dict[str, Any] = msgspec.to_builtins(render.line(view, view.updated_at))
        body.pop("usage", None)
        return body

    outbox = WebhookOutbox(
        ApplicationLog(app), database.write_engine, database.read_engine, line, clock
    )
    policy = RetryPolicy(
        base=timedelta(seconds=settings.webhook_retry_base),
        cap=timedelta(seconds=settings.webhook_retry_max),
        disable_after=timedelta(seconds=settings.webhook_disable_after),
    )
    sender = OutboundSender(
        store, transport, outbox.catch_up, clock, default_holder(), policy,
        claim_for=timedelta(seconds=settings.webhook_timeout * 2 + 30), tally=tally,
    )  # fmt: skip
    app.on_commit.append(sender.wake)
    endpoints = WebhookEndpoints(
        store, transport, clock, new_secret, settings.webhook_max_endpoints
    )
    return {"webhooks": endpoints, "outbound": sender}


def notifier(settings: Settings) -> Notifier:
    if settings.notify_url and not settings.notify_secret:
        raise ConfigError("TUCO_NOTIFY_URL needs TUCO_NOTIFY_SECRET to sign its messages")
    if settings.notify_url and settings.notify_secret:
        return WebhookNotifier(settings.notify_url, settings.notify_secret)
    return LogNotifier()


def clerk(settings: Settings) -> ClerkVerifier | None:
    if not (settings.clerk_jwks or settings.clerk_public_key):
        return None
    return ClerkVerifier(
        jwks=settings.clerk_jwks,
        public_key=settings.clerk_public_key,
        issuer=settings.clerk_issuer,
        authorized_parties=list(settings.clerk_authorized_parties),
    )
