"""TUCO_PROVISIONER=manual: lines wait in provisioning until an operator answers with
`tuco lines activate|fail`; `tuco lines pending` lists what waits, oldest first, with age.
And which routes exist in which configuration. Both backends."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import replace
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from adapters.config import ProvisionerSettings, Settings, StripeSettings
from adapters.manual_provisioner import ManualProvisioner
from api import cli_lines
from api.app import create_app
from api.bootstrap import Services, build
from api.cli import main
from domain.enums import LineState
from tests.http.helpers import created, email_body, get_request, log_position, phone_body
from tests.provisioning.conftest import roomy_tenant
from tests.support.fakes import FakeClock

MANUAL = ProvisionerSettings(kind="manual")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, provisioner=MANUAL)


def test_a_manual_line_waits_in_provisioning_whatever_the_worker_does(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    assert isinstance(services.provisioning.provisioner, ManualProvisioner)
    t = roomy_tenant(services, "org_manual")
    request_id = created(client, t, phone_body())["line"]["_id"]
    before = log_position(services)
    for _ in range(3):
        clock.advance(600)
        services.worker.run_once()
    assert get_request(client, t, request_id).json()["status"] == "provisioning"
    assert log_position(services) == before  # the worker recorded nothing


def test_pending_lists_what_waits_oldest_first_with_its_age(
    services: Services, client: TestClient, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    t = roomy_tenant(services, "org_manual")
    first = created(client, t, phone_body())["line"]["_id"]
    clock.advance(125)
    second = created(client, t, email_body())["line"]["_id"]
    clock.advance(60)
    done = created(client, t, phone_body(firstName="Done"))["line"]["_id"]
    services.provisioning.fail(UUID(done), "no numbers left")

    assert cli_lines.lines_pending(services, argparse.Namespace(limit=1000)) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 2
    assert rows[0].startswith(first) and "waiting 3m 05s" in rows[0] and "org_manual" in rows[0]
    assert rows[1].startswith(second) and "waiting 1m 00s" in rows[1]
    assert "grace@example.com" in rows[1]


def test_the_operator_activates_and_fails_with_the_cli(
    services: Services,
    client: TestClient,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TUCO_DATABASE_URL", database_url)
    monkeypatch.setenv("TUCO_PROVISIONER", "manual")
    monkeypatch.delenv("TUCO_BILLING", raising=False)
    t = roomy_tenant(services, "org_manual")
    to_activate = created(client, t, phone_body())["line"]["_id"]
    to_fail = created(client, t, phone_body(firstName="Bob"))["line"]["_id"]

    assert main(["lines", "pending"]) == 0
    listed = capsys.readouterr().out
    assert listed.index(to_activate) < listed.index(to_fail)

    assert main(["lines", "activate", to_activate, "--phone", "+14155550100"]) == 0
    assert main(["lines", "fail", to_fail, "--reason", "carrier refused"]) == 0
    capsys.readouterr()
    assert main(["lines", "pending"]) == 0
    assert capsys.readouterr().out.strip() == "no line request waits in provisioning"

    activated = services.app.line_request(UUID(to_activate))
    assert (activated.state, activated.phone, activated.provider_ref) == (
        LineState.ACTIVE, "+14155550100", "operator",
    )  # fmt: skip
    failed = services.app.line_request(UUID(to_fail))
    assert (failed.state, failed.failure_reason) == (LineState.FAILED, "carrier refused")
    # An operator's answer to a request that is no longer provisioning is refused.
    assert main(["lines", "activate", to_fail, "--phone", "+14155550100"]) == 1


def _app(settings: Settings, clock: FakeClock) -> Iterator[tuple[Services, TestClient]]:
    services = build(settings, clock=clock)
    try:
        with TestClient(create_app(services, run_worker=False)) as client:
            yield services, client
    finally:
        services.close()


def paths(client: TestClient) -> set[str]:
    return {str(getattr(route, "path", "")) for route in client.app.routes}  # type: ignore[attr-defined]


def test_sandbox_line_server_is_not_mounted_with_another_provisioner(
    client: TestClient, services: Services
) -> None:
    line = "00000000-0000-0000-0000-000000000001"
    assert client.get(f"/sandbox/lines/{line}/health").status_code == 404
    assert client.post(f"/internal/provisioning/{line}", content=b"{}").status_code == 404
    # Sandbox billing is still in use, so its invoice pages are there.
    assert "/sandbox/invoices/{invoice_id}/pay" in paths(client)
    assert "/sandbox/lines/{id}/health" not in paths(client)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_with_stripe_billing_no_sandbox_route_exists(settings: Settings, clock: FakeClock) -> None:
    stripe = StripeSettings(api_key="sk_test_x", webhook_secret="whsec_x",
                            api_base="http://127.0.0.1:9")  # fmt: skip
    production = replace(settings, billing="stripe", stripe=stripe, usage_enabled=False)
    for _, client in _app(production, clock):
        for method, path in [
            ("GET", "/sandbox/invoices/in_1"),
            ("POST", "/sandbox/invoices/in_1/pay"),
            ("GET", "/sandbox/lines/00000000-0000-0000-0000-000000000001/health"),
            ("POST", "/internal/usage"),  # TUCO_USAGE=off
        ]:
            r = client.request(method, path)
            assert r.status_code == 404, (method, path, r.status_code)
        assert not {p for p in paths(client) if p.startswith("/sandbox")}
        assert client.get("/health").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_embedded_default_mounts_the_sandbox(settings: Settings, clock: FakeClock) -> None:
    sandbox = replace(settings, provisioner=ProvisionerSettings())
    for _, client in _app(sandbox, clock):
        r = client.get("/sandbox/lines/00000000-0000-0000-0000-000000000001/health")
        assert r.status_code == 200
        assert "/sandbox/invoices/{invoice_id}/pay" in paths(client)
        assert "/internal/provisioning/{id}" not in paths(client)
