"""The one factory that wires configuration, storage, ports and application together.
Nothing here runs at import time."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import msgspec
from starlette.concurrency import run_in_threadpool

from adapters import schema as adapter_schema
from adapters.clerk import ClerkVerifier
from adapters.clock import SystemClock
from adapters.config import ConfigError, Settings
from adapters.database import Database, open_database
from adapters.health_probe import HttpHealthProbe
from adapters.keys import SqlKeyStore
from adapters.lease import SqlLease, default_holder
from adapters.migrate import migrate
from adapters.notifier import LogNotifier, WebhookNotifier
from adapters.provisioners import configured_callbacks, configured_provisioner
from adapters.provisioning_protocol import ProvisioningCallbacks
from adapters.quiet_loggers import quiet_http_client_loggers
from adapters.sandbox_billing import SandboxBilling
from adapters.sandbox_lines import SandboxLines
from adapters.signing import new_secret
from adapters.stripe_billing import StripeBilling, StripePrices, with_client
from adapters.stripe_subscriptions import StripeSubscriptions
from adapters.webhook_inbox import WebhookInbox
from adapters.webhook_outbox import WebhookOutbox
from adapters.webhook_store import SqlWebhookStore
from adapters.webhook_transport import HttpTransport
from adapters.write_lock import PgWriteLock
from api import render
from api.fold_workers import open_log
from api.limits import TokenBuckets
from api.readiness_checks import register_checks
from application.app import LinesApp
from application.audit import Audit
from application.billing_events import BillingEvents
from application.commands import LineDefaults, Pricing
from application.health import HealthChecks, HealthProbe, Notifier
from application.health_gate import HealthGate
from application.keys import ApiKeys
from application.metrics import Metrics, Tally
from application.outbound import OutboundSender
from application.ports import Billing, Clock, Provisioner, Subscriptions
from application.provisioning import Provisioning
from application.readiness import Readiness
from application.requests import LineRequests
from application.settlement import Settlement
from application.supervisor import Supervised
from application.usage import UsageReporting
from application.webhooks import WebhookEndpoints
from application.worker import Worker
from application.workspaces import Workspaces
from domain.webhooks import RetryPolicy
from projections import schema as projection_schema
from projections.composite import CompositeProjection
from projections.eventlog import ApplicationLog, SqlLogTail
from projections.follower import Follower
from projections.handoff import Handoffs
from projections.lines import LinesProjection
from projections.parallel import FanOut
from projections.read_model import SqlReadModel
from projections.rebuild import TARGETS, Rebuilder, RebuildRunning
from projections.runner import Projection, ProjectionRunner
from projections.usage import UsageProjection

log = logging.getLogger(__name__)
T = TypeVar("T")
TABLE_TARGETS = {name: table.name for name, (table, _) in TARGETS.items()}


@dataclass
class Services:
    settings: Settings
    database: Database
    app: LinesApp
    read_model: SqlReadModel
    runner: ProjectionRunner
    billing: Billing
    billing_events: BillingEvents
    inbox: WebhookInbox
    requests: LineRequests
    settlement: Settlement
    provisioning: Provisioning
    workspaces: Workspaces
    keys: ApiKeys
    worker: Worker
    lease: SqlLease
    clock: Clock
    health: HealthChecks
    usage: UsageReporting
    sandbox_lines: SandboxLines
    clerk: ClerkVerifier | None
    health_gate: HealthGate
    webhooks: WebhookEndpoints
    outbound: OutboundSender
    # The worker thread's watchdog, once a server started it (restarts, alive).
    worker_supervisor: Supervised | None = None
    # What /metrics counts and what /readyz checks (observability).
    metrics: Metrics = field(default_factory=Metrics)
    readiness: Readiness = field(default_factory=Readiness)
    # TUCO_PROVISIONER=http only: verifies POST /internal/provisioning/{id}.
    provisioning_callbacks: ProvisioningCallbacks | None = None
    # PostgreSQL only: the writer's turn across processes (its connection is kept open).
    write_lock: PgWriteLock | None = None

    async def reads(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a short read: inline on SQLite (a local file, microseconds), in the thread
        pool on PostgreSQL (a network round trip must not block the event loop)."""
        if self.database.dialect == "sqlite":
            return fn(*args)
        return await run_in_threadpool(fn, *args)

    @property
    def audit(self) -> Audit:
        return Audit(self.app, self.read_model)

    def rebuilder(self, target: str = "lines") -> Rebuilder:
        lease = SqlLease(self.database.write_engine, f"rebuild:{target}", default_holder(), ttl=60)
        return Rebuilder(target, ApplicationLog(self.app), self.runner, lease)

    @property
    def sandbox_billing(self) -> SandboxBilling | None:
        return self.billing if isinstance(self.billing, SandboxBilling) else None

    def close(self) -> None:
        self.health_gate.close()
        self.outbound.shutdown()
        self.webhooks.transport.close()
        self.read_model.follower.close()
        self.app.close()
        if self.write_lock is not None:
            self.write_lock.close()
        self.database.dispose()


def upgrade(database: Database) -> list[str]:
    """Create missing tables and columns (safe to run again, and from several processes);
    returns the read-model tables that gained columns and so need a rebuild."""
    migrate(database.write_engine, adapter_schema.metadata)
    added = migrate(database.write_engine, projection_schema.metadata)
    return sorted({column.split(".")[0] for column in added})


def _billing(
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


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    billing: Billing | None = None,
    provisioner: Provisioner | None = None,
    probe: HealthProbe | None = None,
    notifier: Notifier | None = None,
) -> Services:
    """Everything the API, the worker and the CLI need, from settings (default: env)."""
    settings = settings or Settings.from_env()
    quiet_http_client_loggers()
    clock = clock or SystemClock()
    database = open_database(
        settings.database_url, settings.db_timeout, settings.db_pool_size, settings.create_tables
    )
    stale_tables = upgrade(database) if settings.create_tables else []
    app = LinesApp(env=database.event_store_env)
    write_lock = PgWriteLock(database.write_engine) if database.dialect == "postgresql" else None
    tail = SqlLogTail(app, database.read_engine)
    app.attach(tail, write_lock.hold if write_lock else contextlib.nullcontext, settings.cache_size)
    event_log = ApplicationLog(app)
    lines = LinesProjection(event_log, cache=settings.cache_size)
    usage = UsageProjection(event_log)
    parts: list[Projection] = [lines, usage]
    live = CompositeProjection("read_model", parts)
    runner = ProjectionRunner(
        live,
        event_log,
        database.projection_engine,
        database.read_engine,
        handoffs=Handoffs(),
        turn=database.projection_turn,
        fan_out=FanOut(
            lines,
            [usage],
            functools.partial(open_log, settings.database_url, settings.db_timeout),
            claim=SqlLease(database.write_engine, "catch-up:read_model", default_holder(), 30),
        ),
    )
    follower = Follower(runner, parts)
    app.on_commit.append(follower.notify)
    read_model = SqlReadModel(
        runner, follower, database.read_engine, clock, [p.name for p in parts]
    )
    configured_billing, subscriptions = _billing(settings, database, clock)
    billing = billing or configured_billing
    provisioner = provisioner or configured_provisioner(settings, database.write_engine, clock)
    settlement = Settlement(app, billing, clock)
    provisioning = Provisioning(app, provisioner, settlement, clock, settings.provisioning_deadline)
    requests = LineRequests(
        app,
        read_model,
        settlement,
        clock,
        Pricing(settings.price_phone, settings.price_email, settings.currency),
        LineDefaults(settings.daily_new_conversations_limit, settings.daily_total_messages_limit),
    )
    health = HealthChecks(
        app,
        probe or HttpHealthProbe(settings.health_timeout),
        notifier or _notifier(settings),
        clock,
    )
    worker = Worker(
        read_model, settlement, provisioning, health,
        reconcile_every=settings.reconcile_seconds, health_every=settings.health_check_seconds,
        retry_base=settings.worker_retry_seconds,
    )  # fmt: skip
    workspaces = Workspaces(app)
    secret = settings.stripe.webhook_secret if settings.stripe else None
    tolerance = settings.stripe.webhook_tolerance if settings.stripe else 300
    metrics = Metrics(commands=app.writer.outcomes)
    services = Services(
        write_lock=write_lock,
        settings=settings,
        database=database,
        app=app,
        read_model=read_model,
        runner=runner,
        billing=billing,
        billing_events=BillingEvents(app, billing, settlement, workspaces, subscriptions),
        inbox=WebhookInbox(database.write_engine, secret, tolerance),
        requests=requests,
        settlement=settlement,
        provisioning=provisioning,
        workspaces=workspaces,
        keys=ApiKeys(SqlKeyStore(database.write_engine, database.read_engine), clock),
        worker=worker,
        lease=SqlLease(database.write_engine, "worker", default_holder(), ttl=6),
        clock=clock,
        health=health,
        usage=UsageReporting(app, read_model, clock),
        sandbox_lines=SandboxLines(database.write_engine, database.read_engine),
        clerk=_clerk(settings),
        metrics=metrics,
        health_gate=HealthGate(
            health, settings.health_cooldown, _probe_budget(settings), settings.health_workers
        ),
        provisioning_callbacks=configured_callbacks(settings, database.write_engine, clock),
        **_webhooks(settings, database, app, clock, metrics.deliveries),
    )
    register_checks(services.readiness, database, read_model.follower)
    for target, table in TABLE_TARGETS.items():
        if table in stale_tables:
            log.warning("read model %s gained columns: rebuilding it from the log", target)
            with contextlib.suppress(RebuildRunning):  # another process is on it
                services.rebuilder(target).rebuild()
    return services


def _probe_budget(settings: Settings) -> Callable[[str], float] | None:
    """New dashboard probes per workspace: TUCO_HEALTH_RATE_LIMIT a minute, in bursts of
    as many (None: no limit)."""
    per_minute = settings.health_rate_limit
    return TokenBuckets(per_minute / 60.0, per_minute).take if per_minute > 0 else None


def _webhooks(
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


def _notifier(settings: Settings) -> Notifier:
    if settings.notify_url and not settings.notify_secret:
        raise ConfigError("TUCO_NOTIFY_URL needs TUCO_NOTIFY_SECRET to sign its messages")
    if settings.notify_url and settings.notify_secret:
        return WebhookNotifier(settings.notify_url, settings.notify_secret)
    return LogNotifier()


def _clerk(settings: Settings) -> ClerkVerifier | None:
    if not (settings.clerk_jwks or settings.clerk_public_key):
        return None
    return ClerkVerifier(
        jwks=settings.clerk_jwks,
        public_key=settings.clerk_public_key,
        issuer=settings.clerk_issuer,
        authorized_parties=list(settings.clerk_authorized_parties),
    )
