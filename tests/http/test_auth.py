"""Workspace API keys: `Authorization: Bearer tuco_…` (SPEC §1, §4)."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from api.bootstrap import Services, build
from domain.enums import Plan
from tests.conftest import make_tenant
from tests.http.helpers import assert_error, log_position, phone_body
from tests.lines.helpers import wait_for

ENDPOINTS = [
    ("POST", "/api/line-requests"),
    ("GET", "/api/line-requests/00000000-0000-0000-0000-000000000000"),
    ("POST", "/api/line-requests/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/line-requests/00000000-0000-0000-0000-000000000000/events"),
    ("GET", "/api/lines/by-user"),
]


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token tuco_x", "Bearer tuco_unknown"],
    ids=["missing", "empty", "no-token", "blank-token", "basic", "other-scheme", "unknown-key"],
)
def test_a_request_without_a_valid_key_is_unauthorized(
    services: Services, client: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    before = log_position(services)
    r = client.post("/api/line-requests", json=phone_body(), headers=headers)
    assert_error(r, 401, "unauthorized")
    assert log_position(services) == before


def test_every_workspace_endpoint_requires_a_key(client: TestClient) -> None:
    for method, path in ENDPOINTS:
        r = client.request(method, path, json={"action": "cancel"})
        assert_error(r, 401, "unauthorized")


def test_a_key_that_is_not_a_tuco_key_is_unauthorized(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_a", Plan.GROWTH)
    r = client.get("/api/lines/by-user", headers={"Authorization": f"Bearer x{t.key}"})
    assert_error(r, 401, "unauthorized")


def test_a_revoked_key_is_unauthorized_at_once(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_a", Plan.GROWTH)
    assert client.get("/api/lines/by-user", headers=t.headers).status_code == 200
    assert services.keys.revoke(t.key) == 1
    assert_error(client.get("/api/lines/by-user", headers=t.headers), 401, "unauthorized")
    r = client.post("/api/line-requests", json=phone_body(), headers=t.headers)
    assert_error(r, 401, "unauthorized")


def test_revoking_one_key_leaves_the_workspaces_other_keys_working(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_a", Plan.GROWTH)
    other = services.keys.create("org_a")
    services.keys.revoke(t.key)
    r = client.get("/api/lines/by-user", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 200, r.text


def test_a_key_created_while_the_app_runs_works_at_once(
    services: Services, client: TestClient
) -> None:
    make_tenant(services, "org_a", Plan.GROWTH)
    key = services.keys.create("org_a")
    r = client.post(
        "/api/line-requests", json=phone_body(), headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["line"]["workspaceId"] == "org_a"


def test_the_scheme_name_is_case_insensitive(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_a", Plan.GROWTH)
    r = client.get("/api/lines/by-user", headers={"Authorization": f"bearer {t.key}"})
    assert r.status_code == 200, r.text


def test_a_key_revoked_by_another_process_stops_working_within_a_second(
    services: Services, client: TestClient, settings: Settings
) -> None:
    """SPEC §7: the CLI is another process; this one serves the key from memory until its
    entry is older than the TTL (0.5 s), then reads the store again."""
    t = make_tenant(services, "org_a", Plan.GROWTH)
    assert client.get("/api/lines/by-user", headers=t.headers).status_code == 200
    cli = build(settings)
    try:
        assert cli.keys.revoke(t.key) == 1
        revoked_at = time.monotonic()
    finally:
        cli.close()

    def refused() -> bool:
        return client.get("/api/lines/by-user", headers=t.headers).status_code == 401

    wait_for(refused, timeout=2.0, what="the revoked key refused")
    assert time.monotonic() - revoked_at < 1.0
