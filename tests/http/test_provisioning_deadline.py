"""A request in provisioning longer than TUCO_PROVISIONING_DEADLINE is failed with reason
`provisioning_timeout` (a paid add-on refunded); a provisioner answering after that changes
nothing but is kept once and logged (SPEC §7, issue 12 point 2)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from adapters.config import ConfigError, Settings
from api.app import create_app
from api.bootstrap import Services, build
from application.ports import (
    Provisioner,
    ProvisionerUnavailable,
    ProvisioningOrder,
    ProvisioningOutcome,
)
from domain.enums import Plan
from tests.conftest import make_tenant
from tests.http.helpers import created, email_body, get_request, pay, phone_body
from tests.support.fakes import FakeClock

DEADLINE = 60.0


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    """The sandbox provisioner would take two hours; the deadline is one minute."""
    s = build(
        replace(settings, provisioning_deadline=DEADLINE, sandbox_provision_seconds=7200),
        clock=clock,
    )
    try:
        yield s
    finally:
        s.close()


def event_types(services: Services, request_id: str) -> list[str]:
    return [type(e).__name__ for e in services.app.history(UUID(request_id))]


def test_a_line_still_provisioning_at_its_deadline_is_not_failed(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = created(client, t, phone_body())["line"]["_id"]
    clock.advance(DEADLINE)
    services.worker.run_once()
    assert get_request(client, t, request_id).json()["status"] == "provisioning"


def test_a_line_provisioning_past_its_deadline_fails_with_provisioning_timeout(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = created(client, t, phone_body())["line"]["_id"]
    clock.advance(DEADLINE + 1)
    services.worker.run_once()
    assert get_request(client, t, request_id).json()["status"] == "failed"
    (failed,) = [e for e in services.app.history(UUID(request_id)) if hasattr(e, "reason")]
    assert failed.reason == "provisioning_timeout"
    assert services.app.workspace("org_growth").held_slots(services.app.line_request(
        UUID(request_id)).channel) == 0  # fmt: skip


def test_a_paid_add_on_past_its_deadline_is_failed_and_refunded(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    posted = created(client, t, email_body())
    assert posted["status"] == "awaiting_payment"
    assert pay(client, posted["paymentUrl"]).status_code < 400
    request_id = posted["line"]["_id"]
    assert get_request(client, t, request_id).json()["status"] == "provisioning"
    clock.advance(DEADLINE + 1)
    services.worker.run_once()
    line = get_request(client, t, request_id).json()["line"]
    assert (line["provisioningStatus"], line["paymentStatus"]) == ("failed", "refunded")
    assert event_types(services, request_id).count("Refunded") == 1


class DownProvisioner(Provisioner):
    """A provisioning service that cannot be reached (the worker backs off from it)."""

    def __init__(self) -> None:
        self.calls = 0

    def provision(self, order: ProvisioningOrder) -> ProvisioningOutcome:
        self.calls += 1
        raise ProvisionerUnavailable("connection refused")


def test_the_deadline_applies_while_the_provisioner_is_down_and_backed_off(
    settings: Settings, clock: FakeClock
) -> None:
    down = DownProvisioner()
    s = build(replace(settings, provisioning_deadline=DEADLINE), clock=clock, provisioner=down)
    try:
        with TestClient(create_app(s, run_worker=False)) as client:
            t = make_tenant(s, "org_growth", Plan.GROWTH)
            request_id = created(client, t, phone_body())["line"]["_id"]
            s.worker.run_once()
            s.worker.run_once()  # still backing off (1 s of real time): not asked again
            assert down.calls == 1
            clock.advance(DEADLINE + 1)
            s.worker.run_once()
            assert get_request(client, t, request_id).json()["status"] == "failed"
            assert down.calls == 1
    finally:
        s.close()


def test_a_provisioner_answering_after_the_deadline_changes_nothing_and_is_kept_once(
    services: Services, client: TestClient, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = created(client, t, phone_body())["line"]["_id"]
    clock.advance(DEADLINE + 1)
    services.worker.run_once()
    before = get_request(client, t, request_id).json()

    with caplog.at_level(logging.WARNING, logger="application.provisioning"):
        for _ in range(2):  # a callback delivered twice
            view = services.provisioning.activate(
                UUID(request_id), "+14155550100", None, provider_ref="carrier-42"
            )
            assert view.state.value == "failed"
        services.provisioning.fail(UUID(request_id), "no number left")

    after = get_request(client, t, request_id).json()
    assert after["status"] == "failed"
    assert after["line"]["phone"] == before["line"]["phone"] is None
    late = [e for e in services.app.history(UUID(request_id))
            if type(e).__name__ == "ProvisioningAnsweredLate"]  # fmt: skip
    assert [(e.status, e.provider_ref) for e in late] == [
        ("active", "carrier-42"), ("failed", None)
    ]  # fmt: skip
    assert sum("after the deadline" in r.getMessage() for r in caplog.records) == 3
    assert event_types(services, request_id).count("Activated") == 0


def test_a_request_that_failed_otherwise_still_refuses_a_late_activation(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_id = UUID(created(client, t, phone_body())["line"]["_id"])
    services.provisioning.fail(request_id, "carrier refused")
    with pytest.raises(Exception, match="Cannot activate"):
        services.provisioning.activate(request_id, "+14155550100", None, provider_ref="x")
    assert "ProvisioningAnsweredLate" not in event_types(services, str(request_id))


def test_the_deadline_setting_defaults_to_an_hour_and_refuses_a_negative_value() -> None:
    assert Settings.from_env({}).provisioning_deadline == 3600
    assert Settings.from_env({"TUCO_PROVISIONING_DEADLINE": "90"}).provisioning_deadline == 90
    with pytest.raises(ConfigError, match="TUCO_PROVISIONING_DEADLINE"):
        Settings.from_env({"TUCO_PROVISIONING_DEADLINE": "-1"})
