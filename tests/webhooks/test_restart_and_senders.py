"""Deliveries follow the log by position: a restart resumes from the stored position
without loss or duplicates, a message leased to a process that died is sent again once
its lease expires (at-least-once), and two senders send each message once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from starlette.testclient import TestClient

from adapters.config import Settings
from api.app import create_app
from api.bootstrap import Services, build
from application.webhooks import SendResult, Transport
from domain.enums import Plan
from domain.webhooks import DeliveryStatus
from tests.conftest import make_tenant
from tests.http.helpers import created, phone_body
from tests.support.fakes import FakeClock
from tests.support.receiver import Receiver
from tests.webhooks.helpers import drain, roomy_tenant, subscribe


def _post_lines(services: Services, tenant_key: str, count: int, prefix: str) -> None:
    with TestClient(create_app(services, run_worker=False)) as c:
        for n in range(count):
            r = c.post(
                "/api/line-requests",
                json=phone_body(firstName=f"{prefix}{n}"),
                headers={"Authorization": f"Bearer {tenant_key}"},
            )
            assert r.status_code == 201, r.text


def test_a_restart_resumes_from_the_stored_position(
    settings: Settings, clock: FakeClock, receiver: Receiver
) -> None:
    first = build(settings, clock=clock)
    t = roomy_tenant(first, "org_growth")
    subscribe(first, t, receiver)
    _post_lines(first, t.key, 2, "before")
    drain(first)
    assert len(receiver.messages()) == 4
    first.close()

    second = build(settings, clock=clock)  # commits, but never sends
    _post_lines(second, t.key, 3, "while down")
    second.close()

    third = build(settings, clock=clock)
    try:
        drain(third)
        got = receiver.messages()
        assert len(got) == 10
        assert len({m.msg_id for m in got}) == 10
        names = [m.body["data"]["line"]["firstName"] for m in got[::2]]
        assert names == ["before0", "before1", "while down0", "while down1", "while down2"]
        head = third.app.recorder.max_notification_id()
        assert third.outbound.outbox() == head  # the outbox reached the log's head
    finally:
        third.close()


def test_a_message_leased_by_a_dead_process_is_sent_after_its_lease_expires(
    services: Services, client: TestClient, clock: FakeClock, receiver: Receiver
) -> None:
    t = make_tenant(services, "org_growth", Plan.GROWTH)
    subscribe(services, t, receiver)
    created(client, t, phone_body())
    services.outbound.outbox()
    now = clock.now()
    store = services.outbound.queue
    dead = store.claim("dead-process", now, now + timedelta(seconds=40), 10)
    assert len(dead) == 2
    drain(services)
    assert receiver.messages() == []  # leased to someone else: not sent twice
    clock.advance(41)
    drain(services)
    assert len(receiver.messages()) == 2
    assert {d.status for d in services.webhooks.deliveries(t.workspace_id)} == {
        DeliveryStatus.DELIVERED
    }


class CountingTransport(Transport):
    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.sent: Counter[str] = Counter()

    def send(self, url: str, secret: str, msg_id: str, payload: bytes) -> SendResult:
        self.sent[msg_id] += 1
        return self.inner.send(url, secret, msg_id, payload)

    def close(self) -> None:
        self.inner.close()


def test_two_senders_send_each_message_once(
    settings: Settings, clock: FakeClock, receiver: Receiver
) -> None:
    senders = [build(settings, clock=clock) for _ in range(2)]
    counting = []
    for s in senders:
        s.outbound.transport = CountingTransport(s.outbound.transport)
        counting.append(s.outbound.transport)
    t = roomy_tenant(senders[0], "org_growth")
    subscribe(senders[0], t, receiver)
    for round_ in range(4):  # committed first: the senders then compete for the same work
        _post_lines(senders[round_ % 2], t.key, 5, f"r{round_}-")
    stop = threading.Event()
    threads = [threading.Thread(target=s.outbound.run_forever, args=(stop, 0.02)) for s in senders]
    for th in threads:
        th.start()
    try:
        got = receiver.wait_for(lambda m: len(m) >= 40, timeout=90)
    finally:
        stop.set()
        for s in senders:
            s.outbound.wake()
        for th in threads:
            th.join(timeout=15)
    try:
        ids = [m.msg_id for m in got]
        assert len(ids) == 40 and len(set(ids)) == 40
        total = Counter[str]()
        for c in counting:
            total.update(c.sent)
        assert max(total.values()) == 1  # no message was sent by both
        assert all(m.verified for m in got)
    finally:
        for s in senders:
            s.close()
