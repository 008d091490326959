"""Fixtures and helpers of the audit and rebuild tests: the `tuco` command run in-process
against the test's database (SQLite or PostgreSQL), line requests through their whole
lifecycle, and direct access to the read-model rows."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from adapters.lease import SqlLease, default_holder
from api.bootstrap import Services
from api.cli import main
from domain.enums import Plan
from projections.eventlog import ApplicationLog
from projections.rebuild import Rebuilder
from projections.runner import read_position
from projections.schema import line_views
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import created, email_body, pay, phone_body


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Tuco = Callable[..., Result]


@pytest.fixture
def tuco(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Tuco:
    """`tuco ARGS...` in this process, on the test's database; its exit code and output."""
    monkeypatch.setenv("TUCO_DATABASE_URL", database_url)
    monkeypatch.delenv("TUCO_BILLING", raising=False)
    capsys.readouterr()

    def run(*args: str) -> Result:
        try:
            code = main(list(args))
        except SystemExit as e:  # as the interpreter reports it at the top of a process
            if isinstance(e.code, str):
                print(e.code, file=sys.stderr)
            code = e.code if isinstance(e.code, int) else 1
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@dataclass
class Story:
    """Line requests of two workspaces in every lifecycle state."""

    starter: Tenant
    growth: Tenant
    active: str  # paid add-on, then activated: Requested .. Activated
    awaiting: str  # add-on with an open invoice
    canceled: str  # its invoice voided
    provisioning: str  # included phone
    failed: str  # included phone, failed

    @property
    def ids(self) -> list[str]:
        return [self.active, self.awaiting, self.canceled, self.provisioning, self.failed]


def paid_and_activated(services: Services, client: TestClient, tenant: Tenant) -> str:
    """An add-on email line, invoiced, paid and activated: five events."""
    posted = created(client, tenant, email_body(email="paid@example.com"))
    assert pay(client, posted["paymentUrl"]).status_code == 200
    request_id = posted["line"]["_id"]
    services.provisioning.activate(UUID(request_id), None, None, provider_ref="mx-1")
    return str(request_id)


@pytest.fixture
def story(services: Services, client: TestClient) -> Story:
    starter = make_tenant(services, "org_story_starter", Plan.STARTER)
    growth = make_tenant(services, "org_story_growth", Plan.GROWTH)
    active = paid_and_activated(services, client, starter)
    canceled = created(client, starter, email_body(email="gone@example.com"))["line"]["_id"]
    r = client.post(
        f"/api/line-requests/{canceled}", json={"action": "cancel"}, headers=starter.headers
    )
    assert r.status_code == 200, r.text
    awaiting = created(client, starter, email_body(email="open@example.com"))["line"]["_id"]
    provisioning = created(client, growth, phone_body(firstName="Prov"))["line"]["_id"]
    failed = created(client, growth, phone_body(firstName="Fail"))["line"]["_id"]
    services.provisioning.fail(UUID(failed), "carrier said no")
    assert services.read_model.wait_for()  # the projections follow; the story is in them
    return Story(starter, growth, active, awaiting, canceled, provisioning, failed)


def rows(services: Services) -> dict[str, dict[str, Any]]:
    """Every row of the live `lines` projection, by request id."""
    with services.database.read_engine.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(select(line_views)).mappings()}


def position(services: Services, name: str | None = None) -> int | None:
    """The tracked position of a projection (default: the live read model's)."""
    with services.database.read_engine.connect() as conn:
        return read_position(conn, name or services.runner.name)


def head(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def rebuilder(
    services: Services, batch: int = 5000, holder: str | None = None, target: str = "lines"
) -> Rebuilder:
    """Like `services.rebuilder()`, with a chosen batch size and lease holder."""
    lease = SqlLease(
        services.database.write_engine, f"rebuild:{target}", holder or default_holder(), ttl=60
    )
    return Rebuilder(target, ApplicationLog(services.app), services.runner, lease, batch=batch)
