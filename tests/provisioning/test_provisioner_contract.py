"""One contract for the Provisioner port, run against sandbox, manual and http, each behind
a real uvicorn on both backends: until the provider's answer the worker's sweeps keep a line
in provisioning and record nothing (provision() is idempotent per request); the answer, by
whatever path the adapter has (time, an operator, a callback), makes it active with an
identity and a provider reference; afterwards sweeps and repeated answers change nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from uuid import UUID

import httpx
import pytest

from adapters.config import ProvisionerSettings, Settings
from api.bootstrap import Services, build
from application.ports import ProvisioningOutcome, ProvisioningState
from domain.enums import HealthStatus, LineState, Plan
from tests.conftest import make_tenant
from tests.http.helpers import phone_body
from tests.provisioning.conftest import SECRET, eventually, http_settings
from tests.support.fakes import FakeClock
from tests.support.live_app import live_app
from tests.support.provisioning_service import Mode, ProvisioningService
from tests.support.server import free_port


@dataclass
class Harness:
    kind: str
    services: Services
    http: httpx.Client
    answer: Callable[[UUID], None]  # the provider answers "active", its own way
    gives_server_url: bool


@pytest.fixture(params=["sandbox", "manual", "http"])
def harness(
    request: pytest.FixtureRequest, database_url: str, clock: FakeClock
) -> Iterator[Harness]:
    port = free_port()
    provider = ProvisioningService(SECRET, Mode.SLOW)
    settings: Settings = http_settings(database_url, port, provider.url)
    kind = request.param
    if kind != "http":
        settings = replace(settings, provisioner=ProvisionerSettings(kind),
                           sandbox_provision_seconds=2.0)  # fmt: skip
    services = build(settings, clock=clock)

    def answer(request_id: UUID) -> None:
        if kind == "sandbox":
            clock.advance(2.0)
        elif kind == "manual":
            services.provisioning.activate(request_id, "+14155550123", None, "operator")
        else:
            provider.release()

    try:
        with live_app(services, port) as url, httpx.Client(base_url=url, timeout=10) as client:
            yield Harness(kind, services, client, answer, gives_server_url=kind != "manual")
    finally:
        provider.stop()
        services.close()


def test_the_provisioner_contract(harness: Harness) -> None:
    s = harness.services
    tenant = make_tenant(s, "org_contract", Plan.GROWTH)
    r = harness.http.post("/api/line-requests", json=phone_body(), headers=tenant.headers)
    assert r.status_code == 201, r.text
    request_id = UUID(r.json()["line"]["_id"])

    def head() -> int:
        return s.app.recorder.max_notification_id() or 0

    def state() -> LineState:
        return s.app.view(request_id).state

    # Before the answer: sweeps (each one calls provision()) keep it waiting, recording nothing.
    before = head()
    for _ in range(3):
        s.worker.run_once()
    assert state() is LineState.PROVISIONING
    assert head() == before

    harness.answer(request_id)

    def activated() -> bool:
        s.worker.run_once()
        return state() is LineState.ACTIVE

    eventually(activated, f"the {harness.kind} provisioner's answer")
    req = s.app.line_request(request_id)
    assert req.phone and req.phone.startswith("+1")
    assert req.provider_ref
    if harness.gives_server_url:
        assert req.server_url
        assert s.health.check(request_id).status is HealthStatus.HEALTHY

    # Afterwards: more sweeps and a repeated answer change nothing.
    after = head()
    for _ in range(2):
        s.worker.run_once()
    late = ProvisioningOutcome(ProvisioningState.ACTIVE, phone="+14155550999")
    again = s.provisioning.answer(request_id, late)
    assert again.changed is False
    assert head() == after
    assert s.app.line_request(request_id).phone == req.phone
