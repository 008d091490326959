"""Fixtures for the provisioning tests: the API on a real uvicorn (tests/support/live_app.py)
with TUCO_PROVISIONER=http pointed at the test provisioning service, and the worker driven
by hand so each step is seen."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import httpx
import pytest

from adapters.config import ProvisionerSettings, Settings
from adapters.signing import new_secret
from api.bootstrap import Services, build
from domain.enums import Channel, Plan
from tests.conftest import Tenant, make_tenant
from tests.support.fakes import FakeClock
from tests.support.live_app import live_app
from tests.support.provisioning_service import Mode, ProvisioningService
from tests.support.server import free_port

T = TypeVar("T")
SECRET = new_secret()
POLL_SECONDS = 30.0


def eventually(check: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)  # polling a condition with a deadline, not waiting for a state
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def provider(request: pytest.FixtureRequest) -> Iterator[ProvisioningService]:
    """The test provisioning service; parametrize indirectly with a Mode to change it."""
    service = ProvisioningService(SECRET, getattr(request, "param", Mode.SUCCESS))
    try:
        yield service
    finally:
        service.stop()


@dataclass
class Live:
    services: Services
    clock: FakeClock
    url: str
    provider: ProvisioningService
    http: httpx.Client

    def tenant(self, workspace_id: str = "org_prov", plan: Plan = Plan.GROWTH) -> Tenant:
        return make_tenant(self.services, workspace_id, plan)

    def request(self, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
        r = self.http.post("/api/line-requests", json=body, headers=tenant.headers)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def get(self, tenant: Tenant, request_id: str) -> dict[str, Any]:
        r = self.http.get(f"/api/line-requests/{request_id}", headers=tenant.headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def events(self, request_id: str) -> list[str]:
        return [type(e).__name__ for e in self.services.app.history(UUID(request_id))]

    def state(self, request_id: str) -> str:
        return self.services.app.view(UUID(request_id)).state.value

    def sweep_until(self, check: Callable[[], T | None], what: str) -> T:
        """Run worker sweeps until `check` holds (each failed step backs off 0.05 s, doubling)."""

        def swept() -> T | None:
            self.services.worker.run_once()
            return check()

        return eventually(swept, what)

    def ordered(self, request_id: str) -> dict[str, Any]:
        """Sweep until the provider has the order; the order it received."""
        return self.sweep_until(
            lambda: next((o for o in self.provider.snapshot().orders if o["id"] == request_id),
                         None),
            f"the order of {request_id}",
        )  # fmt: skip

    def log_head(self) -> int:
        return self.services.app.recorder.max_notification_id() or 0


def http_settings(database_url: str, port: int, provider_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url=f"http://127.0.0.1:{port}",
        provisioner=ProvisionerSettings("http", provider_url, SECRET, POLL_SECONDS, timeout=5),
        worker_retry_seconds=0.05,
        health_timeout=2,
    )


@pytest.fixture
def live(database_url: str, clock: FakeClock, provider: ProvisioningService) -> Iterator[Live]:
    port = free_port()
    services = build(http_settings(database_url, port, provider.url), clock=clock)
    try:
        with live_app(services, port) as url, httpx.Client(base_url=url, timeout=10) as client:
            yield Live(services, clock, url, provider, client)
    finally:
        services.close()


def roomy_tenant(services: Services, workspace_id: str = "org_prov") -> Tenant:
    """A workspace with room for ten included lines of each channel."""
    tenant = make_tenant(services, workspace_id, Plan.GROWTH)
    for channel in Channel:
        services.workspaces.set_override(workspace_id, channel, 10, None)
    return tenant
