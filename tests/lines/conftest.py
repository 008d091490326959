"""Fixtures for the health-check, dashboard-auth and usage tests: the service is built with
a Clerk public key, the internal service token, a notify receiver and short probe timeouts;
the line servers it probes are real HTTP servers on 127.0.0.1 that the tests control."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from api.bootstrap import Services
from api.cli import main
from domain.enums import Plan
from tests.conftest import Tenant, make_tenant
from tests.lines.helpers import (
    HEALTH_TIMEOUT,
    INTERNAL_TOKEN,
    NOTIFY_SECRET,
    LineServer,
    NotifyReceiver,
    SigningKey,
    bearer,
    claims,
)

PHONE = {"requestedChannelType": "phone", "firstName": "Ada", "lastName": "Lovelace"}
EMAIL = {
    "requestedChannelType": "email",
    "firstName": "Grace",
    "lastName": "Hopper",
    "email": "grace@example.com",
}
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def clerk_key() -> SigningKey:
    return SigningKey.generate("ins_test_1")


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    """Another key under the same kid: a forged token that names a trusted key."""
    return SigningKey.generate("ins_test_1")


@pytest.fixture
def line_server() -> Iterator[LineServer]:
    server = LineServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dead_server() -> LineServer:
    """A line server that has stopped: connections to it are refused."""
    server = LineServer()
    server.stop()
    return server


@pytest.fixture
def notify_receiver() -> Iterator[NotifyReceiver]:
    receiver = NotifyReceiver()
    try:
        yield receiver
    finally:
        receiver.server.stop()


@pytest.fixture
def settings(
    settings: Settings, clerk_key: SigningKey, notify_receiver: NotifyReceiver
) -> Settings:
    return replace(
        settings,
        clerk_public_key=clerk_key.public_pem,
        internal_token=INTERNAL_TOKEN,
        notify_url=notify_receiver.url,
        notify_secret=NOTIFY_SECRET,
        health_timeout=HEALTH_TIMEOUT,
        health_cooldown=0.0,  # each check here probes; coalescing is tested on its own
    )


@pytest.fixture
def dashboard(clerk_key: SigningKey) -> Callable[..., dict[str, str]]:
    """Headers with a valid Clerk session token for an organization."""

    def headers(org: str = "org_a", version: int = 1, **extra: Any) -> dict[str, str]:
        return bearer(clerk_key.sign(claims(org, version, **extra)))

    return headers


@pytest.fixture
def tenant_a(services: Services) -> Tenant:
    return make_tenant(services, "org_a", Plan.GROWTH)


@pytest.fixture
def tenant_b(services: Services) -> Tenant:
    return make_tenant(services, "org_b", Plan.GROWTH)


@dataclass
class Lines:
    """Creates line requests through the API and activates them by hand."""

    services: Services
    client: TestClient

    def request(self, tenant: Tenant, body: dict[str, Any] | None = None) -> str:
        r = self.client.post("/api/line-requests", json=body or PHONE, headers=tenant.headers)
        assert r.status_code == 201, r.text
        return str(r.json()["line"]["_id"])

    def active(
        self,
        tenant: Tenant,
        server_url: str | None,
        body: dict[str, Any] | None = None,
        phone: str | None = "+12025550100",
    ) -> str:
        line_id = self.request(tenant, body)
        self.services.provisioning.activate(
            UUID(line_id), phone, None, "ref", server_url=server_url
        )
        return line_id


@pytest.fixture
def lines(services: Services, client: TestClient) -> Lines:
    return Lines(services, client)


@pytest.fixture
def tuco(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str]]:
    """The `tuco` command in-process, on the test's database; (exit code, output)."""
    monkeypatch.setenv("TUCO_DATABASE_URL", database_url)
    monkeypatch.delenv("TUCO_BILLING", raising=False)

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out + err

    return run
