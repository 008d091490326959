"""Retries with backoff, disabling an endpoint that fails for the whole window (60 s in
these tests, moved on the fake clock), enabling it again and redelivering."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Plan
from domain.webhooks import DeliveryStatus, EndpointDisabled, EndpointStatus
from tests.conftest import make_tenant
from tests.http.helpers import created, phone_body
from tests.support.fakes import FakeClock
from tests.support.receiver import Receiver
from tests.webhooks.helpers import drain, subscribe


def test_a_refused_message_is_retried_after_its_backoff_and_order_is_kept(
    services: Services, client: TestClient, clock: FakeClock, receiver: Receiver
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    subscribe(services, t, receiver)
    receiver.fail_next = 2
    created(client, t, phone_body())
    drain(services)
    assert receiver.messages() == []
    (first, second) = sorted(services.webhooks.deliveries(t.workspace_id), key=lambda d: d.position)
    assert (first.status, first.attempts, first.last_status) == (DeliveryStatus.PENDING, 1, 503)
    assert first.next_attempt_at > clock.now()
    assert second.attempts == 0  # held back behind the first, not attempted
    clock.advance(1.0)  # the first retry is due within 0.5-1 s
    drain(services)
    clock.advance(2.0)  # the second within 1-2 s
    drain(services)
    got = receiver.messages()
    assert [m.body["type"] for m in got] == [
        "line_request.requested",
        "line_request.provisioning_started",
    ]
    assert all(m.verified for m in got)
    done = {d.position: d for d in services.webhooks.deliveries(t.workspace_id)}
    assert [done[p].attempts for p in sorted(done)] == [3, 1]
    assert all(d.status is DeliveryStatus.DELIVERED for d in done.values())
    assert services.webhooks.list(t.workspace_id)[0].failing_since is None
    counts = services.metrics.deliveries.counts()  # tuco_outbound_deliveries_total
    assert (counts[("webhook", "retry")], counts[("webhook", "delivered")]) == (2, 2)


def test_backoff_grows_between_attempts(
    services: Services, client: TestClient, clock: FakeClock, receiver: Receiver
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    subscribe(services, t, receiver)
    receiver.always_fail = True
    created(client, t, phone_body())
    waits = []
    for _ in range(4):
        drain(services)
        head = min(services.webhooks.deliveries(t.workspace_id), key=lambda d: d.position)
        waits.append((head.next_attempt_at - clock.now()).total_seconds())
        clock.advance(waits[-1])
    # 1 s, 2 s, 4 s, 8 s before jitter (each 50-100 % of that)
    for wait, ceiling in zip(waits, [1, 2, 4, 8], strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_an_endpoint_failing_for_the_window_is_disabled_and_can_be_enabled(
    services: Services, client: TestClient, clock: FakeClock, receiver: Receiver
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    endpoint_id = subscribe(services, t, receiver)
    receiver.always_fail = True
    created(client, t, phone_body())
    drain(services)
    clock.advance(30)
    drain(services)
    assert services.webhooks.get(t.workspace_id, endpoint_id).status is EndpointStatus.ENABLED
    clock.advance(31)  # 61 s after the first failure
    drain(services)
    endpoint = services.webhooks.get(t.workspace_id, endpoint_id)
    assert endpoint.status is EndpointStatus.DISABLED
    assert "HTTP 503" in (endpoint.disabled_reason or "")
    logged = services.webhooks.deliveries(t.workspace_id)
    assert {d.status for d in logged} == {DeliveryStatus.FAILED}
    refused = receiver.refused
    created(client, t, phone_body(firstName="While disabled"))
    clock.advance(60)
    drain(services)
    assert receiver.refused == refused  # nothing is sent to a disabled endpoint

    head = min(logged, key=lambda d: d.position)
    with pytest.raises(EndpointDisabled):
        services.webhooks.redeliver(head.id)
    receiver.always_fail = False
    services.webhooks.enable(t.workspace_id, endpoint_id)
    again = services.webhooks.redeliver(head.id)
    assert again.status is DeliveryStatus.PENDING
    drain(services)
    (got,) = receiver.messages()
    assert got.msg_id == head.id and got.verified
    assert services.webhooks.delivery(head.id).status is DeliveryStatus.DELIVERED
