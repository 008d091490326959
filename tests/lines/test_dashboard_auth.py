"""Dashboard users: Clerk session tokens, RS256 only (SPEC §1, §4, §5)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from api.bootstrap import Services
from domain.enums import Plan
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import assert_error
from tests.lines.conftest import EMAIL, PHONE, SQLITE_ONLY, Lines
from tests.lines.helpers import (
    LineServer,
    LocalServer,
    SigningKey,
    api,
    bearer,
    claims,
    hs256_token,
    log_position,
    unsigned_token,
)
from tests.support.fakes import FakeClock

Headers = Callable[..., dict[str, str]]
ISSUER = "https://clerk.tuco.example"
ORIGIN = "https://dashboard.tuco.example"


def accepted(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    r = client.post("/api/line-requests", json=PHONE, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["line"]  # type: ignore[no-any-return]


def refused(services: Services, client: TestClient, headers: dict[str, str]) -> None:
    before = log_position(services)
    assert_error(
        client.post("/api/line-requests", json=PHONE, headers=headers), 401, "unauthorized"
    )
    assert_error(client.get("/api/lines/by-user", headers=headers), 401, "unauthorized")
    assert log_position(services) == before


# --- accepted tokens ---------------------------------------------------------------------------


def test_a_version_1_token_records_the_request_as_made_from_the_dashboard(
    client: TestClient, tenant_a: Tenant, dashboard: Headers
) -> None:
    line = accepted(client, dashboard("org_a", version=1))
    assert line["requestSource"] == "dashboard"
    assert line["workspaceId"] == "org_a"


def test_a_version_2_token_names_the_workspace_in_o_id(
    client: TestClient, tenant_a: Tenant, dashboard: Headers
) -> None:
    line = accepted(client, dashboard("org_a", version=2))
    assert line["requestSource"] == "dashboard"
    assert line["workspaceId"] == "org_a"


def test_a_dashboard_user_sees_the_lines_made_with_the_workspaces_api_key(
    client: TestClient, lines: Lines, tenant_a: Tenant, tenant_b: Tenant, dashboard: Headers
) -> None:
    mine = lines.request(tenant_a)
    lines.request(tenant_b)
    r = client.get("/api/lines/by-user", headers=dashboard("org_a"))
    assert r.status_code == 200, r.text
    assert [(x["_id"], x["requestSource"]) for x in r.json()["lines"]] == [(mine, "api")]


@SQLITE_ONLY
def test_a_token_expired_within_the_five_second_leeway_is_still_accepted(
    client: TestClient, tenant_a: Tenant, dashboard: Headers
) -> None:
    accepted(client, dashboard("org_a", exp=int(time.time()) - 2))


@SQLITE_ONLY
def test_a_public_key_pem_file_is_accepted_as_configuration(
    settings: Settings, clock: FakeClock, clerk_key: SigningKey, tmp_path: Path
) -> None:
    pem = tmp_path / "clerk.pem"
    pem.write_text(clerk_key.public_pem)
    with api(settings, clock, clerk_public_key=str(pem)) as (s, client):
        make_tenant(s, "org_a", Plan.GROWTH)
        accepted(client, bearer(clerk_key.sign(claims("org_a"))))


@SQLITE_ONLY
def test_a_jwks_file_verifies_tokens_by_their_kid(
    settings: Settings, clock: FakeClock, clerk_key: SigningKey, tmp_path: Path
) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(clerk_key.jwks()))
    with api(settings, clock, clerk_public_key=None, clerk_jwks=str(jwks)) as (s, client):
        make_tenant(s, "org_a", Plan.GROWTH)
        assert accepted(client, bearer(clerk_key.sign(claims("org_a"))))["requestSource"] == (
            "dashboard"
        )
        unknown_kid = clerk_key.sign(claims("org_a"), headers={"kid": "ins_other"})
        refused(s, client, bearer(unknown_kid))


@SQLITE_ONLY
def test_a_jwks_file_refuses_a_token_signed_by_another_key_with_the_same_kid(
    settings: Settings,
    clock: FakeClock,
    clerk_key: SigningKey,
    other_key: SigningKey,
    tmp_path: Path,
) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(clerk_key.jwks()))
    with api(settings, clock, clerk_public_key=None, clerk_jwks=str(jwks)) as (s, client):
        make_tenant(s, "org_a", Plan.GROWTH)
        refused(s, client, bearer(other_key.sign(claims("org_a"))))


@SQLITE_ONLY
def test_a_jwks_url_is_fetched_and_used(
    settings: Settings, clock: FakeClock, clerk_key: SigningKey
) -> None:
    jwks_server = LocalServer(lambda _: (200, clerk_key.jwks()))
    try:
        url = f"{jwks_server.url}/.well-known/jwks.json"
        with api(settings, clock, clerk_public_key=None, clerk_jwks=url) as (s, client):
            make_tenant(s, "org_a", Plan.GROWTH)
            accepted(client, bearer(clerk_key.sign(claims("org_a", version=2))))
        assert [r.path for r in jwks_server.received][:1] == ["/.well-known/jwks.json"]
    finally:
        jwks_server.stop()


@SQLITE_ONLY
def test_the_issuer_is_checked_when_configured(
    settings: Settings, clock: FakeClock, clerk_key: SigningKey
) -> None:
    with api(settings, clock, clerk_issuer=ISSUER) as (s, client):
        make_tenant(s, "org_a", Plan.GROWTH)
        accepted(client, bearer(clerk_key.sign(claims("org_a", iss=ISSUER))))
        refused(s, client, bearer(clerk_key.sign(claims("org_a", iss="https://evil.example"))))
        refused(s, client, bearer(clerk_key.sign(claims("org_a"))))


@SQLITE_ONLY
def test_the_authorized_party_is_checked_when_configured(
    settings: Settings, clock: FakeClock, clerk_key: SigningKey
) -> None:
    parties = (ORIGIN, "https://admin.tuco.example")
    with api(settings, clock, clerk_authorized_parties=parties) as (s, client):
        make_tenant(s, "org_a", Plan.GROWTH)
        accepted(client, bearer(clerk_key.sign(claims("org_a", azp=ORIGIN))))
        refused(s, client, bearer(clerk_key.sign(claims("org_a", azp="https://evil.example"))))
        # A token without azp comes from a trusted backend: Clerk's SDKs let it through too.
        accepted(client, bearer(clerk_key.sign(claims("org_a"))))


# --- refused tokens ----------------------------------------------------------------------------

TokenMaker = Callable[[SigningKey, SigningKey], str]


def _without(name: str) -> TokenMaker:
    def make(key: SigningKey, _: SigningKey) -> str:
        c = claims("org_a")
        del c[name]
        return key.sign(c)

    return make


def _tampered(key: SigningKey, _: SigningKey) -> str:
    header, _, signature = key.sign(claims("org_b")).split(".")
    payload = key.sign(claims("org_a")).split(".")[1]
    return f"{header}.{payload}.{signature}"


BAD_TOKENS: dict[str, TokenMaker] = {
    "wrong-key": lambda k, other: other.sign(claims("org_a")),
    "expired": lambda k, _: k.sign(claims("org_a", exp=int(time.time()) - 30)),
    "not-yet-valid": lambda k, _: k.sign(claims("org_a", nbf=int(time.time()) + 60)),
    "no-expiry": _without("exp"),
    "no-subject": _without("sub"),
    "no-organization": lambda k, _: k.sign(claims(None)),
    "empty-org-id": lambda k, _: k.sign(claims("")),
    "v2-without-o-id": lambda k, _: k.sign(claims(None, v=2, o={"rol": "admin"})),
    "alg-none": lambda k, _: unsigned_token(claims("org_a")),
    "hs256-with-public-key-pem": lambda k, _: hs256_token(
        claims("org_a"), k.public_pem.encode(), k.kid
    ),
    "tampered-payload": _tampered,
    "garbage": lambda k, _: "not-a-jwt",
    "three-garbage-parts": lambda k, _: "abc.def.ghi",
}


@SQLITE_ONLY
@pytest.mark.parametrize("make", list(BAD_TOKENS.values()), ids=list(BAD_TOKENS))
def test_an_invalid_session_token_is_unauthorized_and_records_nothing(
    services: Services,
    client: TestClient,
    tenant_a: Tenant,
    clerk_key: SigningKey,
    other_key: SigningKey,
    make: TokenMaker,
) -> None:
    refused(services, client, bearer(make(clerk_key, other_key)))


def test_a_request_without_an_authorization_header_is_unauthorized(
    services: Services, client: TestClient, tenant_a: Tenant
) -> None:
    refused(services, client, {})


@SQLITE_ONLY
def test_a_token_whose_o_claim_is_not_an_object_is_unauthorized(
    services: Services, client: TestClient, tenant_a: Tenant, clerk_key: SigningKey
) -> None:
    refused(services, client, bearer(clerk_key.sign(claims(None, v=2, o="org_a"))))


@SQLITE_ONLY
def test_a_session_token_is_refused_when_dashboard_auth_is_not_configured(
    settings: Settings, clock: FakeClock, clerk_key: SigningKey
) -> None:
    with api(settings, clock, clerk_public_key=None, clerk_jwks=None) as (s, client):
        make_tenant(s, "org_a", Plan.GROWTH)
        refused(s, client, bearer(clerk_key.sign(claims("org_a"))))


@SQLITE_ONLY
def test_check_availability_refuses_an_api_key(
    client: TestClient, lines: Lines, tenant_a: Tenant
) -> None:
    line_id = lines.request(tenant_a)
    r = client.get(f"/api/lines/check-availability?id={line_id}", headers=tenant_a.headers)
    assert_error(r, 401, "unauthorized")


@SQLITE_ONLY
@pytest.mark.parametrize("make", [BAD_TOKENS["expired"], BAD_TOKENS["alg-none"]])
def test_check_availability_refuses_an_invalid_token_and_records_nothing(
    services: Services,
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    clerk_key: SigningKey,
    other_key: SigningKey,
    line_server: LineServer,
    make: TokenMaker,
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    before = log_position(services)
    for headers in ({}, bearer(make(clerk_key, other_key))):
        r = client.get(f"/api/lines/check-availability?id={line_id}", headers=headers)
        assert_error(r, 401, "unauthorized")
    assert log_position(services) == before
    assert line_server.paths() == []


# --- an organization without a workspace -------------------------------------------------------


@pytest.mark.parametrize("body", [PHONE, EMAIL], ids=["phone", "email"])
def test_an_organization_without_a_workspace_needs_a_subscription(
    services: Services, client: TestClient, dashboard: Headers, body: dict[str, str]
) -> None:
    before = log_position(services)
    r = client.post("/api/line-requests", json=body, headers=dashboard("org_unknown"))
    assert_error(r, 402, "subscription_required")
    assert log_position(services) == before


def test_an_organization_without_a_workspace_sees_no_lines(
    client: TestClient, lines: Lines, tenant_a: Tenant, dashboard: Headers
) -> None:
    lines.request(tenant_a)
    r = client.get("/api/lines/by-user", headers=dashboard("org_unknown", version=2))
    assert r.status_code == 200, r.text
    assert r.json() == {"lines": [], "has_more": False}


def test_an_organization_without_a_workspace_cannot_check_another_workspaces_line(
    client: TestClient,
    lines: Lines,
    tenant_a: Tenant,
    dashboard: Headers,
    line_server: LineServer,
) -> None:
    line_id = lines.active(tenant_a, line_server.url)
    r = client.get(f"/api/lines/check-availability?id={line_id}", headers=dashboard("org_unknown"))
    assert_error(r, 404, "not_found")
    assert line_server.paths() == []
