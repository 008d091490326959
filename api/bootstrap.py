"""The one factory that wires configuration, storage, ports and application together.
Nothing here runs at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import OperationalError, ProgrammingError

from adapters import schema as adapter_schema
from adapters.clock import SystemClock
from adapters.config import ConfigError, Settings
from adapters.database import Database, open_database
from adapters.keys import SqlKeyStore
from adapters.lease import SqlLease, default_holder
from adapters.sandbox_billing import SandboxBilling
from adapters.sandbox_provisioner import SandboxProvisioner
from adapters.stripe_billing import StripeBilling, StripePrices, with_client
from adapters.stripe_subscriptions import StripeSubscriptions
from adapters.webhook_inbox import WebhookInbox
from application.app import LinesApp
from application.audit import Audit
from application.billing_events import BillingEvents
from application.commands import LineDefaults, Pricing
from application.keys import ApiKeys
from application.ports import Billing, Clock, Provisioner, Subscriptions
from application.provisioning import Provisioning
from application.requests import LineRequests
from application.settlement import Settlement
from application.worker import Worker
from application.workspaces import Workspaces
from projections import schema as projection_schema
from projections.eventlog import ApplicationLog
from projections.lines import LinesProjection
from projections.read_model import SqlReadModel
from projections.rebuild import Rebuilder
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


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
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def audit(self) -> Audit:
        return Audit(self.app, self.read_model)

    def rebuilder(self) -> Rebuilder:
        lease = SqlLease(self.database.write_engine, "rebuild:lines", default_holder(), ttl=60)
        return Rebuilder(
            ApplicationLog(self.app), self.database.write_engine, self.database.read_engine, lease
        )

    @property
    def sandbox_billing(self) -> SandboxBilling | None:
        return self.billing if isinstance(self.billing, SandboxBilling) else None

    def close(self) -> None:
        self.app.close()
        self.database.dispose()


def upgrade(database: Database) -> None:
    """Create every table that is missing (safe to run again, and from several processes)."""
    for metadata in (projection_schema.metadata, adapter_schema.metadata):
        try:
            metadata.create_all(database.write_engine)
        except (OperationalError, ProgrammingError):
            metadata.create_all(database.write_engine)  # another process created it meanwhile


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
    return stripe_billing, StripeSubscriptions(client, cfg.plan_prices)


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    billing: Billing | None = None,
    provisioner: Provisioner | None = None,
) -> Services:
    """Everything the API, the worker and the CLI need, from settings (default: env)."""
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    database = open_database(settings.database_url, settings.db_timeout, settings.db_pool_size)
    upgrade(database)
    app = LinesApp(env=database.event_store_env)
    runner = ProjectionRunner(
        LinesProjection(), ApplicationLog(app), database.write_engine, database.read_engine
    )
    read_model = SqlReadModel(runner, database.read_engine)
    app.read_model = read_model
    configured_billing, subscriptions = _billing(settings, database, clock)
    billing = billing or configured_billing
    provisioner = provisioner or SandboxProvisioner(clock, settings.sandbox_provision_seconds)
    settlement = Settlement(app, billing, clock)
    provisioning = Provisioning(app, provisioner, settlement)
    requests = LineRequests(
        app,
        read_model,
        settlement,
        clock,
        Pricing(settings.price_phone, settings.price_email, settings.currency),
        LineDefaults(settings.daily_new_conversations_limit, settings.daily_total_messages_limit),
    )
    worker = Worker(read_model, settlement, provisioning, clock, settings.reconcile_seconds)
    app.after_commit.append(worker.wake)
    workspaces = Workspaces(app)
    secret = settings.stripe.webhook_secret if settings.stripe else None
    tolerance = settings.stripe.webhook_tolerance if settings.stripe else 300
    return Services(
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
        lease=SqlLease(database.write_engine, "worker", default_holder()),
        clock=clock,
    )
