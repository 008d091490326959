"""The one factory that wires configuration, storage, ports and application together.
Nothing here runs at import time."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from adapters import schema as adapter_schema
from adapters.clerk import ClerkVerifier
from adapters.clock import SystemClock
from adapters.config import Settings
from adapters.database import Database, open_database
from adapters.health_probe import HttpHealthProbe
from adapters.keys import SqlKeyStore
from adapters.lease import SqlLease, default_holder
from adapters.migrate import migrate
from adapters.provisioners import configured_callbacks, configured_provisioner
from adapters.provisioning_protocol import ProvisioningCallbacks
from adapters.quiet_loggers import quiet_http_client_loggers
from adapters.sandbox_billing import SandboxBilling
from adapters.sandbox_lines import SandboxLines
from adapters.webhook_inbox import WebhookInbox
from adapters.write_lock import PgWriteLock
from api import (
    wiring,
)
from api.fold_workers import open_log
from api.readiness_checks import register_checks
from application.app import LinesApp
from application.audit import Audit
from application.billing_events import BillingEvents
from application.commands import LineDefaults, Pricing
from application.health import HealthChecks, HealthProbe, Notifier
from application.health_gate import HealthGate
from application.keys import ApiKeys
from application.metrics import Metrics
from application.outbound import OutboundSender
from application.ports import Billing, Clock, Provisioner
from application.provisioning import Provisioning
from application.readiness import Readiness
from application.requests import LineRequests
from application.settlement import Settlement
from application.supervisor import Supervised
from application.usage import UsageReporting
from application.webhooks import WebhookEndpoints
from application.worker import Worker
from application.workspaces import Workspaces
from projections import schema as projection_schema
from projections.claim import CatchUpClaim
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
        ),
        claim=CatchUpClaim(
            SqlLease(database.write_engine, "catch-up:read_model", default_holder(), 30)
        ),
    )
    follower = Follower(runner, parts)
    app.on_commit.append(follower.notify)
    read_model = SqlReadModel(
        runner, follower, database.read_engine, clock, [p.name for p in parts]
    )
    configured_billing, subscriptions = wiring.billing(settings, database, clock)
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
        notifier or wiring.notifier(settings),
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
        clerk=wiring.clerk(settings),
        metrics=metrics,
        health_gate=HealthGate(
            health, settings.health_cooldown, wiring.probe_budget(settings), settings.health_workers
        ),
        provisioning_callbacks=configured_callbacks(settings, database.write_engine, clock),
        **wiring.webhooks(settings, database, app, clock, metrics.deliveries),
    )
    register_checks(services.readiness, database, read_model.follower)
    for target, table in TABLE_TARGETS.items():
        if table in stale_tables:
            log.warning("read model %s gained columns: rebuilding it from the log", target)
            with contextlib.suppress(RebuildRunning):  # another process is on it
                services.rebuilder(target).rebuild()
    return services
