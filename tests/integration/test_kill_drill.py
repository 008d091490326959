"""Drill (issue 12): kill -9 under mixed load, on SQLite and on PostgreSQL. 16 client threads
request lines, pay (sandbox), cancel, read back and report usage while the `tuco serve` process
is SIGKILLed 5 times at random moments and restarted. Then every acknowledged answer is in the
log with at least the state the client was told, the invariants hold, `tuco audit verify` finds
0 mismatches, the projections come back to the head, the worker finishes owed work, and the
outbound webhooks of a subscribed workspace resume: every state change in the log reaches its
receiver, signed (at least once: a send cut by a kill goes again)."""

from __future__ import annotations

import random
import threading
import time
from uuid import UUID

import pytest

from adapters.config import Settings
from adapters.webhook_outbox import PREFIX, delivery_id
from api.bootstrap import Services, build
from domain.webhooks import EVENT_TYPES
from tests.support.drills import (
    INTERNAL_TOKEN,
    KillableServer,
    audit_verify,
    eventually,
    make_workspaces,
    projections_at_head,
    verify_log,
)
from tests.support.mixed_load import MixedLoad
from tests.support.receiver import Receiver, receiving_server

CLIENTS = 16
KILLS = 5
# Short webhook timeouts and retries, so that messages leased by a killed process
# (timeout * 2 + 30 s) and failed attempts come round within the drill.
HOOKS = {"TUCO_WEBHOOK_TIMEOUT": "1", "TUCO_WEBHOOK_RETRY_BASE": "0.5",
         "TUCO_WEBHOOK_RETRY_MAX": "2"}  # fmt: skip


def _acknowledged(load: MixedLoad) -> int:
    with load.lock:
        return sum(load.stats.statuses[code] for code in (200, 201))


def _serve_then_kill(server: KillableServer, load: MixedLoad, rnd: random.Random) -> None:
    """Let the load make progress on this server, then SIGKILL it at a random moment
    (0.3-2.5 s after it started answering) and start a new one."""
    before = _acknowledged(load)
    eventually(lambda: _acknowledged(load) >= before + 20, "the load to make progress", 60)
    time.sleep(rnd.uniform(0.3, 2.5))  # the moment of the fault: chosen, not a state to wait for
    server.kill()
    server.start()


def _subscribe(database_url: str, workspace: str, receiver: Receiver) -> str:
    setup = build(Settings(database_url=database_url))
    try:
        endpoint, secret = setup.webhooks.add(workspace, receiver.url)
        receiver.secret = secret
        return endpoint.id
    finally:
        setup.close()


def _owed_messages(services: Services, workspace: str, endpoint_id: str) -> set[str]:
    """The `webhook-id` of every state change of the workspace's requests in the log."""
    owed, mine, after = set(), {}, 0
    while batch := services.app.recorder.select_notifications(
        after, 1000, inclusive_of_start=False
    ):
        for n in batch:
            if not n.topic.startswith(PREFIX) or n.topic[len(PREFIX) :] not in EVENT_TYPES:
                continue  # the outbox's own rule: a line request's state change
            if n.originator_id not in mine:
                view = services.app.view(UUID(str(n.originator_id)))
                mine[n.originator_id] = view.workspace_id == workspace
            if mine[n.originator_id]:
                owed.add(delivery_id(endpoint_id, n.id))
        after = batch[-1].id
    return owed


@pytest.mark.slow
def test_acknowledged_answers_survive_kill_9_under_mixed_load(database_url: str) -> None:
    keys = make_workspaces(database_url)
    with receiving_server() as receiver:
        _drill(database_url, keys, receiver)


def _drill(database_url: str, keys: dict[str, str], receiver: Receiver) -> None:
    subscribed = next(iter(keys))
    endpoint = _subscribe(database_url, subscribed, receiver)
    server = KillableServer(
        database_url,
        {"TUCO_SANDBOX_PROVISION_SECONDS": "0.3", "TUCO_DB_POOL_SIZE": "4", **HOOKS},
    )
    server.start()
    load = MixedLoad(lambda: server.url, keys, INTERNAL_TOKEN)
    stop = threading.Event()
    clients = [threading.Thread(target=load.run, args=(n, stop)) for n in range(CLIENTS)]
    rnd = random.Random()
    started = time.monotonic()
    try:
        for t in clients:
            t.start()
        for _ in range(KILLS):
            _serve_then_kill(server, load, rnd)
        before = _acknowledged(load)
        # Usage needs lines the clients were told are active; the last server runs until
        # usage was reported for some.
        eventually(
            lambda: _acknowledged(load) >= before + 20 and bool(load.usage_acked),
            "the load to go on and report usage", 120,
        )  # fmt: skip
        stop.set()
        seconds = time.monotonic() - started
        for t in clients:
            t.join(timeout=60)

        # The last server resumes: its projections reach the head, its worker the owed work.
        watcher = build(Settings(database_url=database_url))
        try:
            eventually(lambda: projections_at_head(watcher), "the projections to reach the head")
            owed = [rid for rid, t in load.told.items() if t.state == "provisioning"]

            def provisioned() -> bool:
                states = {watcher.app.view(UUID(r)).state.value for r in owed}
                return not states & {"provisioning"}

            eventually(provisioned, "the worker to finish provisioning after the restarts")
            messages = _owed_messages(watcher, subscribed, endpoint)

            def delivered() -> bool:
                return messages <= {m.msg_id for m in receiver.messages()}

            eventually(delivered, "every owed webhook to reach the receiver", 120)
            hooks = receiver.messages()
        finally:
            watcher.close()
    finally:
        stop.set()
        server.stop()

    verdict = verify_log(database_url, load)
    audited = audit_verify(database_url)
    print(
        f"kill -9 drill ({database_url.split(':')[0]}): {KILLS} kills in {seconds:.0f} s, "
        f"{verdict.acknowledged} acknowledged requests, {verdict.usage_acknowledged} usage "
        f"batches; missing {len(verdict.missing)}, regressed {len(verdict.regressed)}, "
        f"5xx {len(load.stats.server_errors)}; recovery "
        f"{min(server.recoveries):.1f}-{max(server.recoveries):.1f} s; statuses "
        f"{dict(load.stats.statuses)}, {load.stats.transport_errors} cut connections; "
        f"{audited.stdout.strip().splitlines()[-1] if audited.stdout else audited.stderr}; "
        f"webhooks: {len(messages)} owed, {len(hooks)} received "
        f"({len(hooks) - len({m.msg_id for m in hooks})} sent again after a kill)"
    )
    assert len(server.recoveries) == KILLS
    assert verdict.acknowledged > 0 and verdict.usage_acknowledged > 0
    assert verdict.missing == []
    assert verdict.regressed == []
    assert verdict.violations == []
    assert load.stats.server_errors == []
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert " 0 mismatches" in audited.stdout
    assert messages and all(m.verified for m in hooks)
