"""PostgreSQL stops and starts under load: 503 with Retry-After meanwhile, no hang past the
configured timeout, nothing acknowledged lost, and service resumes without a restart."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from uuid import UUID

import httpx
import pytest

from adapters.config import Settings
from api.bootstrap import build
from domain.enums import Channel, Plan
from tests.support import throwaway_pg
from tests.support.server import running_server

DB_TIMEOUT = 2.0
HANG_LIMIT = 3 * DB_TIMEOUT + 2  # no answer may take longer than this


@dataclass
class Outcome:
    status: int
    seconds: float
    line_id: str | None
    retry_after: str | None


class Load:
    """One client posting requests back to back until stopped."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {key}"}
        self.outcomes: list[Outcome] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=HANG_LIMIT * 2) as client:
            i = 0
            while not self.stop.is_set():
                i += 1
                body = {"requestedChannelType": "phone", "firstName": "L", "lastName": str(i)}
                started = time.monotonic()
                r = client.post("/api/line-requests", json=body, headers=self.headers)
                line_id = r.json()["line"]["_id"] if r.status_code == 201 else None
                self.outcomes.append(
                    Outcome(
                        r.status_code,
                        time.monotonic() - started,
                        line_id,
                        r.headers.get("retry-after"),
                    )
                )

    def count(self, status: int) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.slow
@pytest.mark.skipif(not throwaway_pg.available(), reason="PostgreSQL server binaries not found")
def test_a_database_outage_is_survived_without_losing_acknowledged_requests() -> None:
    with throwaway_pg.throwaway_postgres() as pg:
        services = build(Settings(database_url=pg.url))
        services.workspaces.create("org_outage", Plan.GROWTH, "Outage", True)
        services.workspaces.set_override("org_outage", Channel.PHONE, 100_000, None)
        key = services.keys.create("org_outage")
        services.close()
        env = {"TUCO_DB_TIMEOUT": str(DB_TIMEOUT)}
        with running_server(pg.url, env=env) as base_url:
            load = Load(base_url, key)
            load.thread.start()
            wait_for(lambda: load.count(201) >= 20, 30, "requests before the outage")
            pg.stop()
            before_outage = len(load.outcomes)
            wait_for(lambda: load.count(503) >= 5, 30, "503 answers during the outage")
            pg.start()
            seen = len(load.outcomes)
            wait_for(lambda: any(o.status == 201 for o in load.outcomes[seen:]), 30, "recovery")
            after = len(load.outcomes)
            wait_for(lambda: len(load.outcomes) >= after + 20, 30, "requests after recovery")
            load.stop.set()
            load.thread.join(timeout=HANG_LIMIT * 2)

        acknowledged = [o.line_id for o in load.outcomes if o.status == 201]
        checker = build(Settings(database_url=pg.url))
        missing = [i for i in acknowledged if checker.app.find_request(UUID(i)) is None]
        listed = {v.id.hex for v in checker.requests.list_lines("org_outage")}
        checker.close()

    print(
        f"outage: {load.count(201)} x 201, {load.count(503)} x 503, "
        f"slowest answer {max(o.seconds for o in load.outcomes):.2f} s"
    )
    statuses = {o.status for o in load.outcomes}
    assert statuses <= {201, 503}, statuses
    assert all(o.retry_after for o in load.outcomes if o.status == 503)
    assert max(o.seconds for o in load.outcomes) < HANG_LIMIT
    assert load.count(503) >= 5 and before_outage < len(load.outcomes)
    assert missing == []
    assert {UUID(i).hex for i in acknowledged} <= listed
