"""Bodies the API refuses with 422 validation_error, recording nothing (SPEC §4)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.bootstrap import Services
from domain.enums import Plan
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import assert_error, email_body, lines, log_position, phone_body


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return make_tenant(services, "org_growth", Plan.GROWTH)


def post_raw(client: TestClient, tenant: Tenant, content: bytes) -> Any:
    headers = tenant.headers | {"Content-Type": "application/json"}
    return client.post("/api/line-requests", content=content, headers=headers)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b'"phone"', b"", b"   ", b"null", b"\xff\xfe"],
    ids=["bad-json", "array", "string", "empty", "blank", "null", "not-utf8"],
)
def test_a_body_that_is_not_a_json_object_is_a_validation_error(
    services: Services, client: TestClient, tenant: Tenant, content: bytes
) -> None:
    before = log_position(services)
    assert_error(post_raw(client, tenant, content), 422, "validation_error")
    assert log_position(services) == before


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (phone_body(nickname="Ada"), "nickname"),
        (phone_body(firstName=42), "firstName"),
        (phone_body(lastName=True), "lastName"),
        (phone_body(requestedChannelType=["phone"]), "requestedChannelType"),
        (phone_body(requestedChannelType="fax"), "requestedChannelType"),
        (phone_body(requestedLineType="ported"), "requestedLineType"),
        (phone_body(requestedLineType=1), "requestedLineType"),
        ({"firstName": "Ada", "lastName": "Lovelace"}, "requestedChannelType"),
        ({"requestedChannelType": "phone", "lastName": "Lovelace"}, "firstName"),
        ({"requestedChannelType": "phone", "firstName": "Ada"}, "lastName"),
        (phone_body(firstName=""), "firstName"),
        (phone_body(lastName="   "), "lastName"),
        (phone_body(firstName="x" * 101), "firstName"),
        (phone_body(lastName="x" * 101), "lastName"),
        (phone_body(firstName=None), "firstName"),
        (email_body(email=None), "email"),
        ({k: v for k, v in email_body().items() if k != "email"}, "email"),
        (email_body(email="not-an-email"), "email"),
        (email_body(email="a@b"), "email"),
        (email_body(email="a b@example.com"), "email"),
        (phone_body(email="nope@"), "email"),
        (phone_body(phone="2025550100"), "phone"),
        (phone_body(phone="+0123456789"), "phone"),
        (phone_body(phone="+1 202 555 0100"), "phone"),
        (phone_body(phone="+1234567890123456"), "phone"),
        (phone_body(phone=12025550100), "phone"),
    ],
    ids=[
        "unknown-field",
        "number-firstName",
        "bool-lastName",
        "list-channel",
        "bad-channel",
        "bad-line-type",
        "number-line-type",
        "missing-channel",
        "missing-firstName",
        "missing-lastName",
        "empty-firstName",
        "blank-lastName",
        "101-char-firstName",
        "101-char-lastName",
        "null-firstName",
        "null-email-for-email-line",
        "missing-email-for-email-line",
        "bad-email",
        "email-without-dot-domain",
        "email-with-space",
        "bad-email-on-phone-line",
        "phone-without-plus",
        "phone-with-leading-zero",
        "phone-with-spaces",
        "phone-too-long",
        "number-phone",
    ],
)
def test_a_bad_field_is_a_validation_error_naming_the_field(
    services: Services,
    client: TestClient,
    tenant: Tenant,
    body: dict[str, Any],
    param: str,
) -> None:
    before = log_position(services)
    r = client.post("/api/line-requests", json=body, headers=tenant.headers)
    assert_error(r, 422, "validation_error", param)
    assert log_position(services) == before
    assert lines(client, tenant) == []


def test_names_of_one_and_a_hundred_characters_are_accepted(
    client: TestClient, tenant: Tenant
) -> None:
    r = client.post(
        "/api/line-requests",
        json=phone_body(firstName="A", lastName="z" * 100),
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["line"]["lastName"] == "z" * 100


def test_a_name_with_a_nul_character_never_breaks_the_service(
    services: Services, tenant: Tenant
) -> None:
    with TestClient(create_app(services, run_worker=False), raise_server_exceptions=False) as c:
        r = c.post(
            "/api/line-requests", json=phone_body(firstName="Ada\u0000"), headers=tenant.headers
        )
        assert r.status_code in (201, 422), r.text
        after = c.post("/api/line-requests", json=phone_body(), headers=tenant.headers)
        assert after.status_code == 201, after.text


def test_an_invalid_idempotency_key_is_a_validation_error(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    headers = tenant.headers | {"Idempotency-Key": "x" * 256}
    r = client.post("/api/line-requests", json=phone_body(), headers=headers)
    assert_error(r, 422, "validation_error", "Idempotency-Key")
    assert lines(client, tenant) == []


def test_a_body_over_64_kilobytes_is_payload_too_large(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    """SPEC §7 (second round): 413 `payload_too_large`, no longer 422."""
    before = log_position(services)
    big = phone_body(firstName="A" * 70_000)
    r = client.post("/api/line-requests", json=big, headers=tenant.headers)
    assert_error(r, 413, "payload_too_large", "body")
    assert log_position(services) == before
