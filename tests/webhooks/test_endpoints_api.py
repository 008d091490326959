"""`/api/webhook-endpoints` with an API key: create (secret shown once), list, get, delete;
validation errors in the SPEC's shape; another workspace's ids are 404."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Plan
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import assert_error

PATH = "/api/webhook-endpoints"


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return make_tenant(services, "org_growth", Plan.GROWTH)


def test_an_endpoint_is_created_with_its_secret_shown_once(
    client: TestClient, tenant: Tenant
) -> None:
    r = client.post(PATH, json={"url": "https://hooks.example.com/tuco"}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_")
    assert made["id"].startswith("we_")
    assert (made["url"], made["status"]) == ("https://hooks.example.com/tuco", "enabled")
    listed = client.get(PATH, headers=tenant.headers).json()["endpoints"]
    assert [e["id"] for e in listed] == [made["id"]]
    assert "secret" not in listed[0]
    one = client.get(f"{PATH}/{made['id']}", headers=tenant.headers)
    assert one.status_code == 200 and "secret" not in one.json()


def test_an_endpoint_is_deleted(client: TestClient, tenant: Tenant) -> None:
    made = client.post(PATH, json={"url": "http://127.0.0.1:9/x"}, headers=tenant.headers).json()
    r = client.delete(f"{PATH}/{made['id']}", headers=tenant.headers)
    assert r.status_code == 204
    assert client.get(PATH, headers=tenant.headers).json() == {"endpoints": []}
    assert_error(client.delete(f"{PATH}/{made['id']}", headers=tenant.headers), 404, "not_found")


def test_another_workspace_s_endpoint_is_not_found(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    other = make_tenant(services, "org_other", Plan.GROWTH)
    theirs = client.post(PATH, json={"url": "https://a.example/h"}, headers=other.headers).json()
    for method in ("GET", "DELETE"):
        r = client.request(method, f"{PATH}/{theirs['id']}", headers=tenant.headers)
        assert_error(r, 404, "not_found")
    assert client.get(PATH, headers=tenant.headers).json() == {"endpoints": []}
    assert len(client.get(PATH, headers=other.headers).json()["endpoints"]) == 1


BAD_BODIES = [
    ({"url": "ftp://example.com/hook"}, "url"),
    ({"url": "https://user:pw@example.com/hook"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": "https://example.com:70000/"}, "url"),
    ({"url": "https://example.com/" + "a" * 2000}, "url"),
    ({"url": "https://example.com/\u0000"}, "url"),
    ({}, "url"),
    ({"url": 5}, "url"),
    ({"url": "https://example.com", "events": ["x"]}, "events"),
]


def test_a_bad_endpoint_is_refused_and_nothing_is_stored(
    client: TestClient, tenant: Tenant
) -> None:
    for body, param in BAD_BODIES:
        r = client.post(PATH, json=body, headers=tenant.headers)
        assert_error(r, 422, "validation_error", param)
    assert client.get(PATH, headers=tenant.headers).json() == {"endpoints": []}


def test_a_body_that_is_not_json_is_refused(client: TestClient, tenant: Tenant) -> None:
    r = client.post(PATH, content=b"url=x", headers=tenant.headers)
    assert r.status_code in (415, 422)
    assert r.json()["error"]["code"] in ("unsupported_media_type", "validation_error")
    r = client.post(
        PATH, content=b"{not json", headers=tenant.headers | {"content-type": "application/json"}
    )
    assert_error(r, 422, "validation_error", "body")


def test_a_workspace_holds_at_most_its_limit_of_endpoints(
    client: TestClient, tenant: Tenant
) -> None:
    for n in range(16):
        url = f"https://example.com/{n}"
        assert client.post(PATH, json={"url": url}, headers=tenant.headers).status_code == 201
    r = client.post(PATH, json={"url": "https://example.com/17"}, headers=tenant.headers)
    assert_error(r, 409, "endpoint_limit_reached")
    assert len(client.get(PATH, headers=tenant.headers).json()["endpoints"]) == 16


def test_an_api_key_is_required(client: TestClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer tuco_not_a_key"},
        {"Authorization": "Bearer eyJhbGciOi.x.y"},  # a Clerk token is not enough
    ):
        assert_error(client.get(PATH, headers=headers), 401, "unauthorized")
        r = client.post(PATH, json={"url": "https://e.x/"}, headers=headers)
        assert_error(r, 401, "unauthorized")


def test_malformed_ids_are_not_found(client: TestClient, tenant: Tenant) -> None:
    for raw in ("nope", "we_%00", "we_" + "0" * 24, "x" * 300):
        assert_error(client.get(f"{PATH}/{raw}", headers=tenant.headers), 404, "not_found")
