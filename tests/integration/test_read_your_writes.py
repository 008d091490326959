"""A GET right after a 201, on another server process, finds the request."""

from __future__ import annotations

import httpx
import pytest

from adapters.config import Settings
from api.bootstrap import build
from domain.enums import Plan
from tests.support.server import running_server


@pytest.mark.slow
def test_a_request_posted_on_one_process_is_read_at_once_on_another(database_url: str) -> None:
    services = build(Settings(database_url=database_url))
    try:
        services.workspaces.create("org_ryw", Plan.GROWTH, "RYW", True)
        key = services.keys.create("org_ryw")
    finally:
        services.close()
    headers = {"Authorization": f"Bearer {key}"}
    env = {"TUCO_SANDBOX_PROVISION_SECONDS": "60"}
    with (
        running_server(database_url, env=env) as a,
        running_server(database_url, "--no-worker", env=env) as b,
    ):
        for i in range(20):
            channel = "phone" if i < 2 else "email"
            body = {
                "requestedChannelType": channel,
                "firstName": "L",
                "lastName": str(i),
                "email": f"l{i}@example.com",
            }
            created = httpx.post(f"{a}/api/line-requests", json=body, headers=headers)
            assert created.status_code == 201, created.text
            line_id = created.json()["line"]["_id"]
            if created.json()["status"] == "awaiting_payment":
                cancel = httpx.post(
                    f"{b}/api/line-requests/{line_id}", json={"action": "cancel"}, headers=headers
                )
                assert cancel.json()["status"] == "canceled"
                seen = httpx.get(f"{a}/api/line-requests/{line_id}", headers=headers)
                assert seen.json()["status"] == "canceled"
            else:
                seen = httpx.get(f"{b}/api/line-requests/{line_id}", headers=headers)
                assert seen.status_code == 200
                assert seen.json()["line"]["_id"] == line_id
