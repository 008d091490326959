"""One process runs the background worker; when it dies another takes over within seconds."""

from __future__ import annotations

import signal
import time

import httpx
import pytest
from sqlalchemy import select

from adapters.config import Settings
from adapters.schema import leases
from api.bootstrap import build
from domain.enums import Channel, Plan
from tests.support.server import server_process, stop_process_group

TAKEOVER_LIMIT = 10.0


def _wait_for_status(base_url: str, headers: dict[str, str], line_id: str, status: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < TAKEOVER_LIMIT * 2:
        got = httpx.get(f"{base_url}/api/line-requests/{line_id}", headers=headers)
        if got.json()["status"] == status:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{line_id} did not become {status}")


def _leader_pid(database_url: str) -> int:
    services = build(Settings(database_url=database_url))
    try:
        with services.database.read_engine.connect() as conn:
            holder = conn.execute(select(leases.c.holder).where(leases.c.name == "worker")).scalar()
    finally:
        services.close()
    return int(str(holder).split(":")[1])


@pytest.mark.slow
def test_the_worker_moves_to_another_process_when_its_leader_is_killed(database_url: str) -> None:
    services = build(Settings(database_url=database_url))
    services.workspaces.create("org_fo", Plan.GROWTH, "Failover", True)
    services.workspaces.set_override("org_fo", Channel.PHONE, 100, None)
    headers = {"Authorization": f"Bearer {services.keys.create('org_fo')}"}
    services.close()
    env = {"TUCO_SANDBOX_PROVISION_SECONDS": "0"}
    body = {"requestedChannelType": "phone", "firstName": "F", "lastName": "O"}

    with (
        server_process(database_url, env=env) as (a_url, a_proc),
        server_process(database_url, env=env) as (b_url, b_proc),
    ):
        first = httpx.post(f"{a_url}/api/line-requests", json=body, headers=headers).json()
        _wait_for_status(a_url, headers, first["line"]["_id"], "active")
        leader, survivor_url = (
            (a_proc, b_url) if _leader_pid(database_url) == a_proc.pid else (b_proc, a_url)
        )
        stop_process_group(leader, signal.SIGKILL)

        second = httpx.post(f"{survivor_url}/api/line-requests", json=body, headers=headers)
        assert second.status_code == 201
        took = _wait_for_status(survivor_url, headers, second.json()["line"]["_id"], "active")

    print(f"failover: a line provisioned by the new leader {took:.1f} s after the kill")
    assert took < TAKEOVER_LIMIT
