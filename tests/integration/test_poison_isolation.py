"""A projection that cannot apply an event sets that one request aside: commands and every
other workspace go on, the failure is visible, and it resumes by itself once fixed. The
worker survives an exception in one item the same way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from api import cli
from api.app import create_app
from api.bootstrap import Services
from application.ports import ProvisioningOrder
from application.views import LineView
from domain.enums import Plan
from projections import lines as lines_projection
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import created, phone_body
from tests.lines.helpers import wait_for

POISONED = "org_poisoned"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="http://testserver",
        sandbox_provision_seconds=0,
        worker_interval=0.05,
    )


@pytest.fixture
def live(services: Services) -> Iterator[TestClient]:
    """The API with its follower and its worker running, as `tuco serve` runs them."""
    with TestClient(create_app(services, run_worker=True)) as c:
        yield c


@pytest.fixture
def poison(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A bug in the lines projection that strikes one workspace's rows only."""
    real = lines_projection.row_of

    def row_of(view: LineView, seq: int) -> dict[str, Any]:
        if view.workspace_id == POISONED:
            raise RuntimeError("projection bug")
        return real(view, seq)

    monkeypatch.setattr(lines_projection, "row_of", row_of)
    yield monkeypatch


def set_aside(services: Services) -> dict[str, Any]:
    return {item.aggregate_id: item for st in services.read_model.status() for item in st.set_aside}


def listed(client: TestClient, tenant: Tenant) -> dict[str, dict[str, Any]]:
    r = client.get("/api/lines/by-user", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return {line["_id"]: line for line in r.json()["lines"]}


def test_a_poisoned_request_is_set_aside_and_everyone_else_goes_on(
    services: Services,
    live: TestClient,
    poison: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = make_tenant(services, POISONED, Plan.GROWTH)
    good = make_tenant(services, "org_healthy", Plan.GROWTH)

    poisoned_id = created(live, bad, phone_body())["line"]["_id"]  # the command is unaffected
    wait_for(lambda: poisoned_id in set_aside(services), what="the request set aside")

    healthy_id = created(live, good, phone_body())["line"]["_id"]
    got = live.get(f"/api/line-requests/{healthy_id}", headers=good.headers)
    assert got.status_code == 200, got.text
    assert healthy_id in listed(live, good)
    # The worker is alive and works from the projection: the healthy line is provisioned.
    wait_for(
        lambda: listed(live, good)[healthy_id]["provisioningStatus"] == "active",
        what="the healthy line activated",
    )
    assert live.get(f"/api/line-requests/{poisoned_id}", headers=bad.headers).status_code == 200

    monkeypatch.setenv("TUCO_DATABASE_URL", services.settings.database_url)
    assert cli.main(["projections", "status"]) == 0
    out = capsys.readouterr().out
    assert f"set aside: lines {poisoned_id}" in out and "projection bug" in out

    poison.undo()  # the fix is deployed: the set-aside request comes back by itself
    wait_for(lambda: not set_aside(services), timeout=15, what="the set-aside request retried")
    wait_for(
        lambda: listed(live, bad).get(poisoned_id, {}).get("provisioningStatus") == "active",
        what="the poisoned line projected and provisioned",
    )


def test_the_worker_survives_an_exception_in_one_item(
    services: Services, live: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(services, "org_worker", Plan.GROWTH)
    real = services.provisioning.provisioner.provision
    broken: set[UUID] = set()

    def provision(order: ProvisioningOrder) -> Any:
        if order.request_id in broken:
            raise RuntimeError("provisioner bug")
        return real(order)

    monkeypatch.setattr(services.provisioning.provisioner, "provision", provision)
    first = created(live, tenant, phone_body(firstName="Broken"))["line"]["_id"]
    broken.add(UUID(first))
    second = created(live, tenant, phone_body(firstName="Fine"))["line"]["_id"]
    wait_for(
        lambda: listed(live, tenant)[second]["provisioningStatus"] == "active",
        what="the other line activated",
    )
    assert listed(live, tenant)[first]["provisioningStatus"] == "provisioning"
    broken.clear()
    wait_for(
        lambda: listed(live, tenant)[first]["provisioningStatus"] == "active",
        timeout=15,
        what="the failed item retried after its backoff",
    )
