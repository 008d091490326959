"""Settings from `TUCO_*` environment variables, read once by the factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters import config_rules
from adapters.config_rules import ConfigError
from adapters.env_values import (
    cors_origins,
    env_float,
    env_int,
    env_opt,
    env_seconds,
    log_format,
    log_level,
    plan_prices,
)
from adapters.signing import Signer

__all__ = ["ConfigError", "Settings", "StripeSettings"]


def _abuse_limits(e: Mapping[str, str]) -> dict[str, Any]:
    limits = {
        "rate_limit": env_float(e, "TUCO_RATE_LIMIT", Settings.rate_limit),
        "rate_burst": env_int(e, "TUCO_RATE_BURST", Settings.rate_burst),
        "body_timeout": env_float(e, "TUCO_BODY_TIMEOUT", Settings.body_timeout),
        "max_open_batches": env_int(e, "TUCO_MAX_OPEN_BATCHES", Settings.max_open_batches),
        "max_connections": env_int(e, "TUCO_MAX_CONNECTIONS", Settings.max_connections),
    }
    negative = [name for name, value in limits.items() if value < 0]
    if negative:
        raise ConfigError(f"{', '.join(negative)} must not be negative (0 turns it off)")
    return limits


@dataclass(frozen=True)
class StripeSettings:
    api_key: str
    webhook_secret: str
    api_base: str | None = None
    plan_prices: dict[str, str] = field(default_factory=dict)
    days_until_due: int = 7
    timeout: float = 10.0
    webhook_tolerance: int = 300
    price_phone: str | None = None
    price_email: str | None = None

    @classmethod
    def from_env(cls, e: Mapping[str, str], required: bool) -> StripeSettings | None:
        api_key = e.get("STRIPE_API_KEY", "").strip()
        secret = e.get("STRIPE_WEBHOOK_SECRET", "").strip()
        for name, value in (("STRIPE_API_KEY", api_key), ("STRIPE_WEBHOOK_SECRET", secret)):
            if required and not value:
                raise ConfigError(f"TUCO_BILLING=stripe needs {name} (it is missing or empty)")
        if not secret:
            return None
        return cls(
            api_key=api_key,
            webhook_secret=secret,
            api_base=e.get("TUCO_STRIPE_API_BASE", "").strip() or None,
            plan_prices=plan_prices(e.get("TUCO_STRIPE_PLAN_PRICES", "")),
            days_until_due=env_int(e, "TUCO_STRIPE_DAYS_UNTIL_DUE", 7),
            timeout=env_float(e, "TUCO_STRIPE_TIMEOUT", 10.0),
            webhook_tolerance=config_rules.webhook_tolerance(
                env_int(e, "TUCO_STRIPE_WEBHOOK_TOLERANCE", 300)
            ),
            price_phone=e.get("TUCO_STRIPE_PRICE_PHONE", "").strip() or None,
            price_email=e.get("TUCO_STRIPE_PRICE_EMAIL", "").strip() or None,
        )


PROVISIONERS = ("sandbox", "manual", "http")


@dataclass(frozen=True)
class ProvisionerSettings:
    """`TUCO_PROVISIONER` and, for `http`, the provisioning service (SPEC §7)."""

    kind: str = "sandbox"
    url: str | None = None
    secret: str | None = None
    poll_seconds: float = 60.0
    timeout: float = 10.0

    @classmethod
    def from_env(cls, e: Mapping[str, str], billing: str) -> ProvisionerSettings:
        kind = e.get("TUCO_PROVISIONER", "").strip()
        if not kind and billing == "stripe":
            raise ConfigError(
                "TUCO_BILLING=stripe needs TUCO_PROVISIONER set explicitly "
                "(manual or http; a paid line must never be activated by the sandbox)"
            )
        kind = kind or cls.kind
        if kind not in PROVISIONERS:
            raise ConfigError(f"TUCO_PROVISIONER must be sandbox, manual or http, not {kind!r}")
        url = (env_opt(e, "TUCO_PROVISIONER_URL") or "").rstrip("/") or None
        secret = env_opt(e, "TUCO_PROVISIONER_SECRET")
        if kind == "http":
            if url is None or not url.startswith(("http://", "https://")):
                raise ConfigError("TUCO_PROVISIONER=http needs TUCO_PROVISIONER_URL (http(s)://…)")
            if secret is None or not secret.startswith("whsec_"):
                raise ConfigError("TUCO_PROVISIONER=http needs TUCO_PROVISIONER_SECRET (whsec_…)")
            try:
                Signer(secret)
            except ValueError:
                raise ConfigError("TUCO_PROVISIONER_SECRET is not whsec_ + base64") from None
        poll = env_float(e, "TUCO_PROVISIONER_POLL_SECONDS", cls.poll_seconds)
        timeout = env_float(e, "TUCO_PROVISIONER_TIMEOUT", cls.timeout)
        if poll <= 0 or timeout <= 0:
            raise ConfigError("TUCO_PROVISIONER_POLL_SECONDS and _TIMEOUT must be above 0")
        return cls(kind, url, secret, poll, timeout)


def _usage(e: Mapping[str, str], billing: str) -> bool:
    """`TUCO_USAGE=off` turns off POST /internal/usage; in production (Stripe billing) it is
    on only with a service token."""
    raw = e.get("TUCO_USAGE", "on").strip().lower() or "on"
    if raw not in ("on", "off"):
        raise ConfigError(f"TUCO_USAGE must be on or off, not {raw!r}")
    if raw == "on" and billing == "stripe" and not env_opt(e, "TUCO_INTERNAL_TOKEN"):
        raise ConfigError(
            "TUCO_BILLING=stripe needs TUCO_INTERNAL_TOKEN for POST /internal/usage "
            "(or TUCO_USAGE=off)"
        )
    return raw == "on"


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///tuco.db"
    public_url: str = "http://127.0.0.1:8000"
    billing: str = "sandbox"
    sandbox_provision_seconds: float = 2.0
    worker_interval: float = 0.5
    reconcile_seconds: float = 60.0
    price_phone: int = 1500
    price_email: int = 500
    currency: str = "usd"
    daily_new_conversations_limit: int = 20
    daily_total_messages_limit: int = 150
    db_timeout: float = 5.0
    db_pool_size: int = 10
    log_level: str = "INFO"
    log_format: str = "json"  # or "console" (TUCO_LOG_FORMAT)
    stripe: StripeSettings | None = None
    clerk_jwks: str | None = None
    clerk_public_key: str | None = None
    clerk_issuer: str | None = None
    clerk_authorized_parties: tuple[str, ...] = ()
    health_timeout: float = 2.0
    health_check_seconds: float | None = None
    health_cooldown: float = 5.0  # a dashboard check this soon after the last gets its result
    health_rate_limit: int = 60  # new dashboard probes per workspace per minute (0: no limit)
    health_workers: int = 8  # threads that run dashboard probes
    notify_url: str | None = None
    notify_secret: str | None = None
    internal_token: str | None = None
    # Outbound status webhooks (README "Outbound webhooks").
    webhook_timeout: float = 5.0
    webhook_interval: float = 0.5
    webhook_retry_base: float = 5.0
    webhook_retry_max: float = 3600.0
    webhook_disable_after: float = 86400.0
    webhook_max_endpoints: int = 16
    webhook_sender: bool = True  # False: this process sends none (they wait for one that does)
    # Off in server processes started by `tuco serve` after it created every table once.
    create_tables: bool = True
    # Abuse limits (api/limits.py, `tuco serve`): 0 turns each off.
    rate_limit: float = 0.0
    rate_burst: int = 50
    body_timeout: float = 10.0
    max_open_batches: int = 32
    max_connections: int = 1000
    # Browser origins (dashboards) allowed to call the API cross-origin; none: no CORS.
    cors_origins: tuple[str, ...] = ()
    # Aggregates, views and folded projection rows kept in memory per process.
    cache_size: int = 20_000
    # Reliability (issue 12): seconds a request may stay in provisioning (0 = no deadline).
    provisioning_deadline: float = 3600.0
    provisioner: ProvisionerSettings = field(default_factory=ProvisionerSettings)
    usage_enabled: bool = True
    worker_retry_seconds: float = 1.0  # the first retry delay of a failed step (doubling)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        billing = e.get("TUCO_BILLING", cls.billing).strip() or cls.billing
        if billing not in ("sandbox", "stripe"):
            raise ConfigError(f"TUCO_BILLING must be 'sandbox' or 'stripe', not {billing!r}")
        clerk = bool(env_opt(e, "TUCO_CLERK_JWKS") or env_opt(e, "TUCO_CLERK_PUBLIC_KEY"))
        config_rules.clerk_issuer(billing, clerk, env_opt(e, "TUCO_CLERK_ISSUER"))
        return cls(
            database_url=e.get("TUCO_DATABASE_URL", "").strip() or cls.database_url,
            public_url=(e.get("TUCO_PUBLIC_URL", "").strip() or cls.public_url).rstrip("/"),
            billing=billing,
            sandbox_provision_seconds=env_float(
                e, "TUCO_SANDBOX_PROVISION_SECONDS", cls.sandbox_provision_seconds
            ),
            worker_interval=env_float(e, "TUCO_WORKER_INTERVAL", cls.worker_interval),
            reconcile_seconds=env_float(e, "TUCO_RECONCILE_SECONDS", cls.reconcile_seconds),
            price_phone=env_int(e, "TUCO_PRICE_PHONE", cls.price_phone),
            price_email=env_int(e, "TUCO_PRICE_EMAIL", cls.price_email),
            currency=e.get("TUCO_CURRENCY", "").strip().lower() or cls.currency,
            daily_new_conversations_limit=env_int(
                e, "TUCO_DAILY_NEW_CONVERSATIONS_LIMIT", cls.daily_new_conversations_limit
            ),
            daily_total_messages_limit=env_int(
                e, "TUCO_DAILY_TOTAL_MESSAGES_LIMIT", cls.daily_total_messages_limit
            ),
            db_timeout=env_float(e, "TUCO_DB_TIMEOUT", cls.db_timeout),
            db_pool_size=env_int(e, "TUCO_DB_POOL_SIZE", cls.db_pool_size),
            log_level=log_level(e, cls.log_level),
            log_format=log_format(e),
            stripe=StripeSettings.from_env(e, required=billing == "stripe"),
            clerk_jwks=config_rules.jwks_location(env_opt(e, "TUCO_CLERK_JWKS")),
            clerk_public_key=env_opt(e, "TUCO_CLERK_PUBLIC_KEY"),
            clerk_issuer=env_opt(e, "TUCO_CLERK_ISSUER"),
            clerk_authorized_parties=tuple(
                p.strip()
                for p in e.get("TUCO_CLERK_AUTHORIZED_PARTIES", "").split(",")
                if p.strip()
            ),
            health_timeout=env_float(e, "TUCO_HEALTH_TIMEOUT", cls.health_timeout),
            health_check_seconds=env_float(e, "TUCO_HEALTH_CHECK_SECONDS", 0.0) or None,
            health_cooldown=env_float(e, "TUCO_HEALTH_COOLDOWN", cls.health_cooldown),
            health_rate_limit=env_int(e, "TUCO_HEALTH_RATE_LIMIT", cls.health_rate_limit),
            health_workers=env_int(e, "TUCO_HEALTH_WORKERS", cls.health_workers),
            notify_url=env_opt(e, "TUCO_NOTIFY_URL"),
            notify_secret=env_opt(e, "TUCO_NOTIFY_SECRET"),
            internal_token=env_opt(e, "TUCO_INTERNAL_TOKEN"),
            webhook_timeout=env_float(e, "TUCO_WEBHOOK_TIMEOUT", cls.webhook_timeout),
            webhook_interval=env_float(e, "TUCO_WEBHOOK_INTERVAL", cls.webhook_interval),
            webhook_retry_base=env_float(e, "TUCO_WEBHOOK_RETRY_BASE", cls.webhook_retry_base),
            webhook_retry_max=env_float(e, "TUCO_WEBHOOK_RETRY_MAX", cls.webhook_retry_max),
            webhook_disable_after=env_float(
                e, "TUCO_WEBHOOK_DISABLE_AFTER", cls.webhook_disable_after
            ),
            webhook_max_endpoints=env_int(
                e, "TUCO_WEBHOOK_MAX_ENDPOINTS", cls.webhook_max_endpoints
            ),
            webhook_sender=e.get("TUCO_WEBHOOK_SENDER", "1").strip() != "0",
            create_tables=e.get("TUCO_CREATE_TABLES", "1").strip() != "0",
            **_abuse_limits(e),
            cors_origins=cors_origins(e.get("TUCO_CORS_ORIGINS", "")),
            cache_size=env_int(e, "TUCO_CACHE_SIZE", cls.cache_size),
            provisioning_deadline=env_seconds(
                e, "TUCO_PROVISIONING_DEADLINE", cls.provisioning_deadline
            ),
            provisioner=ProvisionerSettings.from_env(e, billing),
            usage_enabled=_usage(e, billing),
            worker_retry_seconds=env_float(e, "TUCO_WORKER_RETRY_SECONDS", 1.0),
        )
