"""Events stored in an old shape still replay, audit and rebuild: an `Activated` event in
its version-1 shape (no `server_url`, no `class_version`) is upcast on read."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import LineState, Plan
from domain.line_request import LineRequest
from tests.audit.conftest import Tuco, rows
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import created, phone_body

PHONE = "+15550142"


def stored_state(services: Services, request_id: UUID, version: int) -> dict[str, Any]:
    """The state of one stored event, decoded but not upcast."""
    [stored] = services.app.recorder.select_events(request_id, gt=version - 1, lte=version)
    state: dict[str, Any] = services.app.mapper.transcoder.decode(stored.state)
    return state


def store_activated_v1(services: Services, request_id: UUID) -> None:
    """Activate the request as a version-1 `Activated` event would have been stored."""
    req: LineRequest = services.app.repository.get(request_id)
    req.activate(phone=PHONE, email=None, provider_ref="legacy-1", server_url="https://dropped")
    [event] = req.collect_events()
    assert type(event) is LineRequest.Activated
    stored = services.app.mapper.to_stored_event(event)
    transcoder = services.app.mapper.transcoder
    state = transcoder.decode(stored.state)
    assert state["class_version"] == 2
    del state["server_url"], state["class_version"]
    services.app.recorder.insert_events([replace(stored, state=transcoder.encode(state))])


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return make_tenant(services, "org_legacy", Plan.GROWTH)


@pytest.fixture
def legacy(services: Services, client: TestClient, tenant: Tenant) -> UUID:
    """An included phone line whose activation is stored in the version-1 shape."""
    request_id = UUID(created(client, tenant, phone_body())["line"]["_id"])
    store_activated_v1(services, request_id)
    return request_id


def test_the_activated_event_is_stored_in_its_version_1_shape(
    services: Services, legacy: UUID
) -> None:
    state = stored_state(services, legacy, 3)
    assert "server_url" not in state and "class_version" not in state
    assert (state["phone"], state["provider_ref"]) == (PHONE, "legacy-1")
    assert LineRequest.Activated.class_version == 2


def test_a_version_1_event_folds_to_an_active_line_without_a_server_url(
    services: Services, legacy: UUID
) -> None:
    req: LineRequest = services.app.repository.get(legacy)
    assert (req.state, req.version) == (LineState.ACTIVE, 3)
    assert req.server_url is None
    assert (req.phone, req.provider_ref) == (PHONE, "legacy-1")
    [event] = [e for e in services.app.history(legacy) if type(e) is LineRequest.Activated]
    assert event.server_url is None  # type: ignore[attr-defined]
    assert "class_version" not in vars(event)


def test_audit_shows_the_version_1_event_with_a_null_server_url(
    tuco: Tuco, legacy: UUID, client: TestClient, tenant: Tenant
) -> None:
    r = tuco("audit", str(legacy), "--json")
    assert r.code == 0, r.err
    body = json.loads(r.out)
    activated = body["events"][-1]
    assert (activated["type"], activated["version"]) == ("Activated", 3)
    assert activated["data"] == {
        "phone": PHONE,
        "email": None,
        "provider_ref": "legacy-1",
        "server_url": None,
    }
    assert body["state"]["state"] == "active"
    assert body["state"]["server_url"] is None
    assert body["state"]["phone"] == PHONE
    api = client.get(f"/api/line-requests/{legacy}/events", headers=tenant.headers)
    assert api.json()["events"] == body["events"]

    text = tuco("audit", str(legacy))
    assert text.code == 0
    assert "server_url=None" in text.out.splitlines()[2]
    assert text.out.strip().splitlines()[-1] == "state: active (payment not_required, version 3)"


def test_a_version_2_event_keeps_its_server_url_beside_a_version_1_event(
    services: Services, client: TestClient, tenant: Tenant, legacy: UUID, tuco: Tuco
) -> None:
    current = UUID(created(client, tenant, phone_body(firstName="New"))["line"]["_id"])
    services.provisioning.activate(
        current, "+15550143", None, provider_ref="p-2", server_url="https://probe.example"
    )
    assert stored_state(services, current, 3)["class_version"] == 2
    r = tuco("audit", str(current), "--json")
    assert json.loads(r.out)["events"][-1]["data"]["server_url"] == "https://probe.example"
    assert services.app.repository.get(current).server_url == "https://probe.example"
    services.rebuilder().rebuild()
    assert rows(services)[str(current)]["server_url"] == "https://probe.example"
    assert rows(services)[str(legacy)]["server_url"] is None
    assert services.app.repository.get(legacy).server_url is None


def test_the_projection_verify_and_rebuild_read_the_version_1_event(
    services: Services, client: TestClient, tenant: Tenant, legacy: UUID, tuco: Tuco
) -> None:
    # The event went into the store behind the application's back: verify catches the
    # read model up first, so the live projection folds the v1 event too.
    r = tuco("audit", "verify")
    assert r.code == 0, r.out
    row = rows(services)[str(legacy)]
    assert (row["state"], row["phone"], row["version"]) == ("active", PHONE, 3)
    assert row["server_url"] is None
    live = rows(services)

    r = tuco("projections", "rebuild")
    assert r.code == 0, r.err
    assert rows(services) == live
    assert tuco("audit", "verify").code == 0

    [line] = client.get("/api/lines/by-user", headers=tenant.headers).json()["lines"]
    assert (line["_id"], line["isActive"], line["phone"]) == (str(legacy), True, PHONE)
