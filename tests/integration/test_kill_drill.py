"""Drill (issue 12): kill -9 under mixed load, on SQLite and on PostgreSQL. 16 client threads
request lines, pay (sandbox), cancel, read back and report usage while the `tuco serve` process
is SIGKILLed 5 times at random moments and restarted. Then every acknowledged answer is in the
log with at least the state the client was told, the invariants hold, `tuco audit verify` finds
0 mismatches, the projections come back to the head and the worker finishes owed work."""

from __future__ import annotations

import random
import threading
import time
from uuid import UUID

import pytest

from adapters.config import Settings
from api.bootstrap import build
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

CLIENTS = 16
KILLS = 5


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


@pytest.mark.slow
def test_acknowledged_answers_survive_kill_9_under_mixed_load(database_url: str) -> None:
    keys = make_workspaces(database_url)
    server = KillableServer(
        database_url, {"TUCO_SANDBOX_PROVISION_SECONDS": "0.3", "TUCO_DB_POOL_SIZE": "4"}
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
        eventually(lambda: _acknowledged(load) >= before + 20, "the load to go on", 60)
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
        f"{audited.stdout.strip().splitlines()[-1] if audited.stdout else audited.stderr}"
    )
    assert len(server.recoveries) == KILLS
    assert verdict.acknowledged > 0 and verdict.usage_acknowledged > 0
    assert verdict.missing == []
    assert verdict.regressed == []
    assert verdict.violations == []
    assert load.stats.server_errors == []
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert " 0 mismatches" in audited.stdout
