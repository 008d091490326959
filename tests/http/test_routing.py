"""Unknown routes and wrong methods answer in the SPEC's error shape."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.http.helpers import assert_error

SOME_ID = "00000000-0000-0000-0000-000000000000"


def test_an_unknown_route_is_not_found_in_the_error_shape(client: TestClient) -> None:
    for path in ("/nope", "/api", "/api/lines", f"/api/line-requests/{SOME_ID}/x", "/sandbox"):
        assert_error(client.get(path), 404, "not_found")
        assert_error(client.post(path, json={}), 404, "not_found")


def test_a_wrong_method_is_405_in_the_error_shape_with_an_allow_header(
    client: TestClient,
) -> None:
    for method, path in [
        ("PUT", "/api/line-requests"),
        ("DELETE", f"/api/line-requests/{SOME_ID}"),
        ("PUT", f"/api/line-requests/{SOME_ID}"),
        ("POST", f"/api/line-requests/{SOME_ID}/events"),
        ("POST", "/api/lines/by-user"),
        ("GET", "/sandbox/invoices/in_sb_x/pay"),
    ]:
        r = client.request(method, path)
        assert_error(r, 405, "method_not_allowed")
        assert r.headers.get("allow"), (method, path)


def test_the_health_endpoint_answers_ok(client: TestClient) -> None:
    r = client.get("/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})
