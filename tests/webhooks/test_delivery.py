"""Every state change of a line request goes out, signed, in order, to the workspace's
endpoints, against a real receiving server (SPEC §7, issue 11 point 3)."""

from __future__ import annotations

from uuid import UUID

from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Plan
from tests.conftest import make_tenant
from tests.http.helpers import act, created, email_body, pay, phone_body
from tests.support.fakes import FakeClock
from tests.support.receiver import Receiver
from tests.webhooks.helpers import drain, subscribe, types_for


def test_an_add_on_sends_each_state_change_in_order_signed(
    services: Services, client: TestClient, clock: FakeClock, receiver: Receiver
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    subscribe(services, t, receiver)
    posted = created(client, t, email_body())
    request_id = posted["line"]["_id"]
    pay(client, posted["paymentUrl"])
    clock.advance(2)
    services.worker.run_once()
    drain(services)
    assert types_for(receiver, request_id) == [
        "line_request.requested",
        "line_request.invoiced",
        "line_request.paid",
        "line_request.provisioning_started",
        "line_request.activated",
    ]
    got = receiver.messages()
    assert all(m.verified for m in got)
    assert [m.body["data"]["sequence"] for m in got] == sorted(
        m.body["data"]["sequence"] for m in got
    )
    last = got[-1].body
    assert last["data"]["status"] == "active"
    assert last["data"]["workspaceId"] == "org_starter"
    assert last["data"]["line"]["_id"] == request_id
    assert last["data"]["line"]["provisioningStatus"] == "active"
    assert last["timestamp"].endswith("Z")
    assert got[0].body["data"]["line"]["provisioningStatus"] == "awaiting_payment"


def test_an_included_request_shows_its_line_as_of_its_commit(
    services: Services, client: TestClient, receiver: Receiver
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    subscribe(services, t, receiver)
    request_id = created(client, t, phone_body())["line"]["_id"]
    services.provisioning.fail(UUID(request_id), "carrier refused")
    drain(services)
    got = receiver.messages()
    assert [m.body["type"] for m in got] == [
        "line_request.requested",
        "line_request.provisioning_started",
        "line_request.failed",
    ]
    assert got[0].body["data"]["status"] == "requested"
    assert got[0].body["data"]["line"]["provisioningStatus"] == "provisioning"
    assert got[2].body["data"]["line"]["provisioningStatus"] == "failed"


def test_cancel_and_refund_go_out(
    services: Services, client: TestClient, receiver: Receiver
) -> None:
    t = make_tenant(services, "org_starter", Plan.STARTER)
    subscribe(services, t, receiver)
    canceled = created(client, t, email_body())["line"]["_id"]
    assert act(client, t, canceled, "cancel").status_code == 200
    paid = created(client, t, email_body(email="b@example.com"))
    pay(client, paid["paymentUrl"])
    services.provisioning.fail(UUID(paid["line"]["_id"]), "mail host refused")
    drain(services)
    assert types_for(receiver, canceled)[-1] == "line_request.canceled"
    assert types_for(receiver, paid["line"]["_id"])[-2:] == [
        "line_request.failed",
        "line_request.refunded",
    ]


def test_each_message_id_is_its_webhook_id_and_is_sent_once(
    services: Services, client: TestClient, receiver: Receiver
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    subscribe(services, t, receiver)
    for n in range(3):
        created(client, t, phone_body(firstName=f"N{n}"))
    drain(services)
    drain(services)
    ids = [m.msg_id for m in receiver.messages()]
    assert len(ids) == 6
    assert len(set(ids)) == 6
    logged = {d.id for d in services.webhooks.deliveries(t.workspace_id)}
    assert logged == set(ids)


def test_another_workspace_s_changes_are_not_sent(
    services: Services, client: TestClient, receiver: Receiver
) -> None:
    mine = make_tenant(services, "org_mine", Plan.GROWTH)
    other = make_tenant(services, "org_other", Plan.GROWTH)
    subscribe(services, mine, receiver)
    created(client, other, phone_body())
    created(client, mine, phone_body())
    drain(services)
    assert {m.body["data"]["workspaceId"] for m in receiver.messages()} == {"org_mine"}
    assert services.webhooks.deliveries("org_other") == []


def test_an_endpoint_gets_changes_committed_after_it_was_added(
    services: Services, client: TestClient, receiver: Receiver
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    before = created(client, t, phone_body())["line"]["_id"]
    drain(services)  # the outbox moves past it with no endpoint to send to
    subscribe(services, t, receiver)
    after = created(client, t, phone_body(firstName="Later"))["line"]["_id"]
    drain(services)
    assert types_for(receiver, before) == []
    assert types_for(receiver, after) == [
        "line_request.requested",
        "line_request.provisioning_started",
    ]
