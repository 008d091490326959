"""Helpers shared by the HTTP tests: request bodies, calls and error-shape checks."""

from __future__ import annotations

from typing import Any

from httpx import Response
from starlette.testclient import TestClient

from api.bootstrap import Services
from tests.conftest import Tenant

LINE_FIELDS = {
    "_id",
    "workspaceId",
    "firstName",
    "lastName",
    "phone",
    "email",
    "isActive",
    "provisioningStatus",
    "paymentStatus",
    "requestSource",
    "requestedChannelType",
    "requestedLineType",
    "paymentLinkUrl",
    "stripeInvoiceId",
    "dailyNewConversationsLimit",
    "dailyTotalMessagesLimit",
    "usage",
    "healthCheck",
    "createdAt",
    "updatedAt",
}


def phone_body(**overrides: Any) -> dict[str, Any]:
    return {"requestedChannelType": "phone", "firstName": "Ada", "lastName": "Lovelace"} | overrides


def email_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "requestedChannelType": "email",
        "firstName": "Grace",
        "lastName": "Hopper",
        "email": "grace@example.com",
    }
    return body | overrides


def request_line(
    client: TestClient, tenant: Tenant, body: dict[str, Any], key: str | None = None
) -> Response:
    headers = tenant.headers | ({"Idempotency-Key": key} if key is not None else {})
    return client.post("/api/line-requests", json=body, headers=headers)


def created(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """POST a line request that must succeed; its 201 body."""
    r = request_line(client, tenant, body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def act(client: TestClient, tenant: Tenant, request_id: str, action: str) -> Response:
    return client.post(
        f"/api/line-requests/{request_id}", json={"action": action}, headers=tenant.headers
    )


def get_request(client: TestClient, tenant: Tenant, request_id: str) -> Response:
    return client.get(f"/api/line-requests/{request_id}", headers=tenant.headers)


def lines(client: TestClient, tenant: Tenant) -> list[dict[str, Any]]:
    r = client.get("/api/lines/by-user", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["lines"]  # type: ignore[no-any-return]


def invoice_id(payment_url: str) -> str:
    """The sandbox invoice id at the end of a hosted invoice URL."""
    return payment_url.rstrip("/").rsplit("/", 1)[-1]


def pay(client: TestClient, payment_url: str, notify: bool = True) -> Response:
    suffix = "" if notify else "?notify=false"
    return client.post(f"/sandbox/invoices/{invoice_id(payment_url)}/pay{suffix}")


def assert_error(r: Response, status: int, code: str, param: str | None = None) -> dict[str, Any]:
    """The response is the SPEC's error shape with this status, code and (if given) param."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    extra = {"requestId"} if code == "payment_pending" else set()  # SPEC §7: the pending id
    assert set(error) - extra in ({"code", "message"}, {"code", "message", "param"}), error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if param is not None:
        assert error.get("param") == param, error
    return error  # type: ignore[no-any-return]


def log_position(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0
