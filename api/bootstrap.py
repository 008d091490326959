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
from application.app import LinesApp
from application.commands import LineDefaults, Pricing
from application.keys import ApiKeys
from application.ports import Billing, Clock, Provisioner
from application.provisioning import Provisioning
from application.requests import LineRequests
from application.settlement import Settlement
from application.worker import Worker
from application.workspaces import Workspaces
from projections import schema as projection_schema
from projections.eventlog import ApplicationLog
from projections.lines import LinesProjection
from projections.read_model import SqlReadModel
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


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    billing: Billing | None = None,
    provisioner: Provisioner | None = None,
) -> Services:
    """Everything the API, the worker and the CLI need, from settings (default: env)."""
    settings = settings or Settings.from_env()
    if settings.billing != "sandbox" and billing is None:
        raise ConfigError(f"billing {settings.billing!r} is not available")
    clock = clock or SystemClock()
    database = open_database(settings.database_url, settings.db_timeout, settings.db_pool_size)
    upgrade(database)
    app = LinesApp(env=database.event_store_env)
    runner = ProjectionRunner(
        LinesProjection(), ApplicationLog(app), database.write_engine, database.read_engine
    )
    read_model = SqlReadModel(runner, database.read_engine)
    app.read_model = read_model
    billing = billing or SandboxBilling(
        database.write_engine, database.read_engine, settings.public_url, clock
    )
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
    return Services(
        settings=settings,
        database=database,
        app=app,
        read_model=read_model,
        runner=runner,
        billing=billing,
        requests=requests,
        settlement=settlement,
        provisioning=provisioning,
        workspaces=Workspaces(app),
        keys=ApiKeys(SqlKeyStore(database.write_engine, database.read_engine), clock),
        worker=worker,
        lease=SqlLease(database.write_engine, "worker", default_holder()),
        clock=clock,
    )
