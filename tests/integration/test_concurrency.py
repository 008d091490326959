"""The capacity rules hold under real concurrency: real server processes, real HTTP."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from adapters.config import Settings
from api.bootstrap import build
from domain.enums import Plan
from tests.support.server import running_server

CLIENTS = 24


def _setup_growth_workspace(database_url: str) -> str:
    services = build(Settings(database_url=database_url))
    try:
        services.workspaces.create("org_busy", Plan.GROWTH, "Busy", True)
        return services.keys.create("org_busy")
    finally:
        services.close()


def _fire_simultaneously(base_url: str, key: str) -> list[httpx.Response]:
    start = threading.Barrier(CLIENTS)

    def post(i: int) -> httpx.Response:
        body = {"requestedChannelType": "phone", "firstName": "Line", "lastName": str(i)}
        with httpx.Client(base_url=base_url, timeout=30) as client:
            start.wait()
            return client.post(
                "/api/line-requests", json=body, headers={"Authorization": f"Bearer {key}"}
            )

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(post, range(CLIENTS)))


def _outcomes(responses: list[httpx.Response]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for r in responses:
        body = r.json()
        outcomes[body["status"] if r.status_code == 201 else body["error"]["code"]] += 1
    return outcomes


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_simultaneous_phone_requests_take_exactly_the_free_slots(
    database_url: str, workers: int
) -> None:
    key = _setup_growth_workspace(database_url)
    with running_server(database_url, "--workers", str(workers)) as base_url:
        responses = _fire_simultaneously(base_url, key)
        listed = httpx.get(
            f"{base_url}/api/lines/by-user", headers={"Authorization": f"Bearer {key}"}
        ).json()["lines"]

    assert [r.status_code for r in responses if r.status_code >= 500] == []
    assert _outcomes(responses) == {"provisioning": 2, "awaiting_payment": 1, "payment_pending": 21}
    assert len(listed) == 3
