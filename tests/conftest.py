"""Shared fixtures. Every test that touches storage runs on SQLite and on PostgreSQL
(`backend` parameter); under CI an unreachable PostgreSQL fails instead of skipping."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from api.app import create_app
from api.bootstrap import Services, build
from domain.enums import Plan
from tests.support.databases import postgres_available, postgres_url, sqlite_url
from tests.support.fakes import FakeClock

BACKENDS = ["sqlite", "postgres"]
# The logging module's switches configure_logging turns off (adapters.logs).
_SWITCHES = ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing")


@pytest.fixture(autouse=True)
def _root_logging() -> Iterator[None]:
    """Each test leaves the root logger's handlers as it found them: a CLI or app run
    in-process installs one on that test's captured stderr, which pytest closes after it,
    and a later test's background thread would log into the closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    switches = {name: getattr(logging, name) for name in _SWITCHES}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in switches.items():
        setattr(logging, name, value)


@pytest.fixture(scope="session")
def _postgres_ok() -> bool:
    return postgres_available()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _postgres_ok: bool
) -> Iterator[str]:
    if request.param == "sqlite":
        with sqlite_url(tmp_path) as url:
            yield url
        return
    if not _postgres_ok:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 under CI")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    with postgres_url() as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="http://testserver",
        sandbox_provision_seconds=2.0,
    )


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    s = build(settings, clock=clock)
    try:
        yield s
    finally:
        s.close()


@dataclass
class Tenant:
    workspace_id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_tenant(services: Services, workspace_id: str, plan: Plan, active: bool = True) -> Tenant:
    services.workspaces.create(workspace_id, plan, workspace_id, active)
    return Tenant(workspace_id, services.keys.create(workspace_id))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    """The API in-process, without the background worker (tests run it by hand)."""
    with TestClient(create_app(services, run_worker=False)) as c:
        yield c
