"""One log line per request (api.observe): request id taken or made, and returned; the
workspace, the route template, method, status and duration; an unhandled error logged once,
with its traceback, by a real uvicorn."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from api.app import create_app
from api.bootstrap import Services
from domain.enums import Plan
from tests.conftest import make_tenant
from tests.observability.conftest import CapturedLogs
from tests.support.server import free_port


def test_the_callers_request_id_is_returned_and_logged_with_workspace_route_and_timing(
    client: TestClient, services: Services, json_logs: CapturedLogs
) -> None:
    tenant = make_tenant(services, "acme", Plan.MINI)
    r = client.get("/api/lines/by-user", headers={**tenant.headers, "X-Request-Id": "abc-123"})
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "abc-123"
    (line,) = json_logs.lines(logger="tuco.access", request_id="abc-123")
    assert line["event"] == "request"
    assert line["level"] == "info"
    assert line["workspace"] == "acme"
    assert line["route"] == "/api/lines/by-user"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_a_missing_or_unusable_request_id_is_replaced_by_a_new_one_each_time(
    client: TestClient, json_logs: CapturedLogs
) -> None:
    answers = [
        client.get("/healthz"),
        client.get("/healthz"),
        client.get("/healthz", headers={"X-Request-Id": "has spaces and ; semicolons"}),
        client.get("/healthz", headers={"X-Request-Id": "x" * 200}),
    ]
    ids = [a.headers["x-request-id"] for a in answers]
    assert len(set(ids)) == 4
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids), ids
    logged = {line["request_id"] for line in json_logs.lines(logger="tuco.access")}
    assert set(ids) <= logged


def test_the_route_is_logged_as_its_template_and_an_unknown_path_as_unmatched(
    client: TestClient, services: Services, json_logs: CapturedLogs
) -> None:
    tenant = make_tenant(services, "acme", Plan.MINI)
    missing = uuid.uuid4()
    assert client.get(f"/api/line-requests/{missing}", headers=tenant.headers).status_code == 404
    assert client.get("/no/such/path").status_code == 404
    assert client.get("/api/lines/by-user").status_code == 401
    routes = [(x["route"], x["status"], x["workspace"]) for x in json_logs.lines(
        logger="tuco.access")]  # fmt: skip
    assert routes == [
        ("/api/line-requests/{id}", 404, "acme"),
        ("unmatched", 404, None),
        ("/api/lines/by-user", 401, None),
    ]
    access = str(json_logs.lines(logger="tuco.access"))
    assert str(missing) not in access  # paths (ids, query strings) are not logged


@contextmanager
def uvicorn_in_thread(app: Starlette) -> Iterator[str]:
    """The app on a real uvicorn (as `tuco serve` configures it), in this process."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise TimeoutError("uvicorn did not start")
        time.sleep(0.01)  # polling a condition (the server started), with a deadline
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_an_unhandled_error_is_answered_500_and_its_traceback_logged_once(
    services: Services, json_logs: CapturedLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(services, "acme", Plan.MINI)
    message = "bug-" + uuid.uuid4().hex[:8]

    def broken(*args: object) -> None:
        raise RuntimeError(message)

    monkeypatch.setattr(services.requests, "get", broken)
    with uvicorn_in_thread(create_app(services, run_worker=False)) as base_url:
        r = httpx.get(
            f"{base_url}/api/line-requests/{uuid.uuid4()}",
            headers={**tenant.headers, "X-Request-Id": "req-500"},
            trust_env=False,
        )
        assert r.status_code == 500
        assert r.json()["error"]["code"] == "internal_error"
        assert r.headers["x-request-id"] == "req-500"
        assert httpx.get(f"{base_url}/healthz", trust_env=False).status_code == 200  # serving
    assert json_logs.text.count("Traceback (most recent call last)") == 1
    assert json_logs.text.count(f"RuntimeError: {message}") == 1
    (line,) = json_logs.lines(event="unhandled error")
    assert line["level"] == "error"
    assert line["request_id"] == "req-500"
    assert line["route"] == "/api/line-requests/{id}"
    assert line["status"] == 500
    assert line["workspace"] == "acme"
    assert message in str(line["exception"])
