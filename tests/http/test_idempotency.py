"""The Idempotency-Key header on POST /api/line-requests (SPEC §4)."""

from __future__ import annotations

from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Plan
from tests.conftest import make_tenant
from tests.http.helpers import (
    assert_error,
    email_body,
    lines,
    log_position,
    phone_body,
    request_line,
)


def test_the_same_key_and_body_return_the_first_request_and_record_nothing(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    first = request_line(client, t, phone_body(), key="k-1")
    assert first.status_code == 201, first.text
    before = log_position(services)
    again = request_line(client, t, phone_body(), key="k-1")
    assert again.status_code == 201, again.text
    assert again.json()["line"]["_id"] == first.json()["line"]["_id"]
    assert again.json()["status"] == first.json()["status"]
    assert log_position(services) == before
    assert len(lines(client, t)) == 1


def test_a_replayed_add_on_returns_its_invoice_link_instead_of_payment_pending(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    first = request_line(client, t, email_body(), key="addon").json()
    again = request_line(client, t, email_body(), key="addon")
    assert again.status_code == 201, again.text
    assert again.json()["paymentUrl"] == first["paymentUrl"] is not None


def test_the_same_key_with_a_different_body_is_an_idempotency_conflict(
    services: Services, client: TestClient
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    request_line(client, t, phone_body(), key="k-1")
    before = log_position(services)
    r = request_line(client, t, phone_body(firstName="Someone"), key="k-1")
    assert_error(r, 409, "idempotency_conflict")
    assert log_position(services) == before
    assert len(lines(client, t)) == 1


def test_a_different_key_creates_a_new_request(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    a = request_line(client, t, phone_body(), key="k-1").json()["line"]["_id"]
    b = request_line(client, t, phone_body(), key="k-2").json()["line"]["_id"]
    assert a != b
    assert len(lines(client, t)) == 2


def test_idempotency_keys_belong_to_one_workspace(services: Services, client: TestClient) -> None:
    one = make_tenant(services, "org_one", Plan.GROWTH)
    two = make_tenant(services, "org_two", Plan.GROWTH)
    a = request_line(client, one, phone_body(), key="shared")
    b = request_line(client, two, phone_body(firstName="Other"), key="shared")
    assert a.status_code == b.status_code == 201, b.text
    assert a.json()["line"]["_id"] != b.json()["line"]["_id"]
    assert b.json()["line"]["workspaceId"] == "org_two"
    assert [x["firstName"] for x in lines(client, two)] == ["Other"]
