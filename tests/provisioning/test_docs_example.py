"""The README's minimal provisioning service (docs/provisioning_service_example.py), run as
its own process beside a real `tuco serve` with TUCO_PROVISIONER=http, provisions a line;
a health check then probes the serverUrl it gave."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from adapters.config import Settings
from adapters.signing import new_secret
from api.bootstrap import build
from domain.enums import HealthStatus, Plan
from tests.conftest import make_tenant
from tests.http.helpers import phone_body
from tests.provisioning.conftest import eventually
from tests.support.server import free_port, server_process, stop_process_group

EXAMPLE = Path(__file__).parents[2] / "docs" / "provisioning_service_example.py"


@pytest.mark.slow
def test_the_example_service_provisions_a_line_beside_tuco_serve(database_url: str) -> None:
    secret, port = new_secret(), free_port()
    example = subprocess.Popen(
        [sys.executable, str(EXAMPLE), str(port)],
        env={"PROVISIONER_SECRET": secret, "PATH": "/usr/bin:/bin"},
        start_new_session=True,
    )
    env = {
        "TUCO_PROVISIONER": "http",
        "TUCO_PROVISIONER_URL": f"http://127.0.0.1:{port}",
        "TUCO_PROVISIONER_SECRET": secret,
        "TUCO_WORKER_INTERVAL": "0.1",
        "TUCO_WORKER_RETRY_SECONDS": "0.1",  # until the example is listening
    }
    try:
        with server_process(database_url, env=env) as (base_url, _):
            services = build(Settings(database_url=database_url))
            try:
                tenant = make_tenant(services, "org_example", Plan.GROWTH)
                r = httpx.post(f"{base_url}/api/line-requests", json=phone_body(),
                               headers=tenant.headers, timeout=10)  # fmt: skip
                assert r.status_code == 201, r.text
                request_id = UUID(r.json()["line"]["_id"])

                def active() -> bool:
                    got = httpx.get(f"{base_url}/api/line-requests/{request_id}",
                                    headers=tenant.headers, timeout=10).json()  # fmt: skip
                    return got["status"] == "active"

                eventually(active, "the example's callback", timeout=30)
                req = services.app.line_request(request_id)
                assert req.provider_ref == f"example-{str(request_id)[:8]}"
                assert req.phone == "+14155550100"
                assert req.server_url == f"http://127.0.0.1:{port}/lines/{request_id}"
                assert services.health.check(request_id).status is HealthStatus.HEALTHY
            finally:
                services.close()
    finally:
        stop_process_group(example)
