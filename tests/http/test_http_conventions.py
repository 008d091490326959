"""HTTP conventions (issue 11 §6): Allow on 405 and OPTIONS, CORS with preflight for
TUCO_CORS_ORIGINS, 401 messages that name what the endpoint accepts, payment_pending's
requestId, and 422 (never 500) for unknown fields and bad types on every body."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from adapters.config import ConfigError, Settings
from api.app import create_app
from api.bootstrap import Services, build
from domain.enums import Plan
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import assert_error, email_body, phone_body, request_line
from tests.support.fakes import FakeClock

SOME_ID = "00000000-0000-0000-0000-000000000000"
DASHBOARD = "https://dashboard.example"
# Routing and headers: the backend plays no part.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def cors_client(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    services = build(
        replace(settings, cors_origins=(DASHBOARD,), internal_token="t0k"), clock=clock
    )
    try:
        with TestClient(create_app(services, run_worker=False)) as c:
            yield c
    finally:
        services.close()


@SQLITE_ONLY
def test_a_wrong_method_gets_405_with_every_method_the_path_takes(client: TestClient) -> None:
    r = client.delete(f"/api/line-requests/{SOME_ID}")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    r = client.request("PATCH", "/api/lines/by-user")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"
    r = client.put("/api/line-requests")  # GET lists, POST requests a line
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"


@SQLITE_ONLY
def test_options_answers_the_allowed_methods(client: TestClient) -> None:
    r = client.options(f"/api/line-requests/{SOME_ID}")
    assert (r.status_code, r.headers["allow"]) == (204, "GET, HEAD, OPTIONS, POST")
    assert client.head("/health").status_code == 200


@SQLITE_ONLY
def test_a_cors_preflight_from_a_configured_origin_is_allowed(cors_client: TestClient) -> None:
    r = cors_client.options(
        "/api/line-requests",
        headers={
            "Origin": DASHBOARD,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == DASHBOARD
    assert "POST" in r.headers["access-control-allow-methods"]
    allowed = r.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= set(allowed.split(", "))


@SQLITE_ONLY
def test_an_answer_to_a_configured_origin_carries_cors_headers(cors_client: TestClient) -> None:
    r = cors_client.get("/api/lines/by-user", headers={"Origin": DASHBOARD})
    assert_error(r, 401, "unauthorized")  # even an error can be read by the dashboard
    assert r.headers["access-control-allow-origin"] == DASHBOARD
    other = cors_client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = cors_client.options(
        "/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers


@SQLITE_ONLY
def test_without_configured_origins_there_are_no_cors_headers(client: TestClient) -> None:
    r = client.get("/health", headers={"Origin": DASHBOARD})
    assert "access-control-allow-origin" not in r.headers


def test_cors_origins_are_read_and_checked() -> None:
    env = {"TUCO_CORS_ORIGINS": f"{DASHBOARD}/, http://127.0.0.1:3000"}
    assert Settings.from_env(env).cors_origins == (DASHBOARD, "http://127.0.0.1:3000")
    assert Settings.from_env({}).cors_origins == ()
    for bad in ("dashboard.example", "ftp://x.example", "https://x.example/app"):
        with pytest.raises(ConfigError):
            Settings.from_env({"TUCO_CORS_ORIGINS": bad})


@SQLITE_ONLY
def test_a_401_names_what_the_endpoint_accepts(cors_client: TestClient) -> None:
    foo = {"Authorization": "Bearer foo"}
    key_or_clerk = assert_error(cors_client.get("/api/lines/by-user", headers=foo), 401,
                                "unauthorized")  # fmt: skip
    assert "API key" in key_or_clerk["message"] and "Clerk" in key_or_clerk["message"]
    assert "takes a Clerk session token" not in key_or_clerk["message"]
    missing = assert_error(cors_client.get("/api/lines/by-user"), 401, "unauthorized")
    assert "API key" in missing["message"] and "Clerk session token" in missing["message"]
    clerk_only = assert_error(
        cors_client.get(f"/api/lines/check-availability?id={SOME_ID}", headers=foo),
        401,
        "unauthorized",
    )
    assert "Clerk session token" in clerk_only["message"]
    assert "API key (" not in clerk_only["message"]
    internal = assert_error(
        cors_client.post("/internal/usage", json={}, headers=foo), 401, "unauthorized"
    )
    assert "internal service token" in internal["message"]


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return make_tenant(services, "org_growth", Plan.GROWTH)


@SQLITE_ONLY
def test_payment_pending_carries_the_pending_requests_id(
    client: TestClient, tenant: Tenant
) -> None:
    pending = request_line(client, tenant, email_body())  # an add-on on growth
    assert pending.json()["status"] == "awaiting_payment", pending.text
    r = request_line(client, tenant, phone_body())
    error = assert_error(r, 409, "payment_pending")
    assert error["requestId"] == pending.json()["line"]["_id"]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/api/line-requests", phone_body(extra=1), "extra"),
        ("/api/line-requests", phone_body(firstName={"a": 1}), "firstName"),
        (f"/api/line-requests/{SOME_ID}", {"action": "cancel", "why": "x"}, "why"),
        (f"/api/line-requests/{SOME_ID}", {"action": 3}, "action"),
        (f"/api/line-requests/{SOME_ID}", {"action": "refund"}, "action"),
        (f"/api/line-requests/{SOME_ID}", {}, "action"),
    ],
)
def test_unknown_fields_and_bad_types_are_422_naming_the_field(
    client: TestClient, tenant: Tenant, path: str, body: object, param: str
) -> None:
    assert_error(client.post(path, json=body, headers=tenant.headers), 422, "validation_error",
                 param)  # fmt: skip
