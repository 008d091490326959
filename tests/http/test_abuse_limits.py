"""Abuse limits (api/limits.py): the per-key rate limit, the bound on open webhook and usage
batches and the body deadline, at the ASGI level and through the app; the body deadline,
the connection limit and idle keep-alive connections against a real `tuco serve`."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from api.app import create_app
from api.bootstrap import build
from api.limits import Limits, LimitSettings, Message, TokenBuckets
from domain.enums import Plan
from tests.support.server import running_server

# -- the token bucket ----------------------------------------------------------------------------


def test_a_bucket_gives_its_burst_then_one_token_per_interval() -> None:
    now = [100.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("k") == 0.0
    assert buckets.take("other") == 0.0  # buckets are per name


def test_random_names_cannot_grow_the_table_past_its_bound() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1, max_buckets=100)
    for n in range(5_000):
        buckets.take(f"tuco_random{n}")
    assert len(buckets) == 100


# -- the middleware, in isolation ----------------------------------------------------------------


def _scope(path: str, body: bool = True, token: str | None = None) -> dict[str, Any]:
    headers = [(b"content-length", b"10")] if body else []
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return {"type": "http", "method": "POST", "path": path, "headers": headers,
            "client": ("10.0.0.1", 1234)}  # fmt: skip


async def _call(middleware: Limits, scope: dict[str, Any], receive: Any = None) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def no_body() -> Message:
        return {"type": "http.request", "body": b"0123456789", "more_body": False}

    await middleware(scope, receive or no_body, send)
    return sent


def _status_and_body(sent: list[Message]) -> tuple[int, dict[str, Any], dict[bytes, bytes]]:
    return sent[0]["status"], orjson.loads(sent[1]["body"]), dict(sent[0]["headers"])


def test_open_batches_past_the_bound_answer_503_with_retry_after() -> None:
    release = asyncio.Event()

    async def slow_batch(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    limits = Limits(slow_batch, LimitSettings(max_open_batches=2), known_key=lambda _: False)

    async def drill() -> list[list[Message]]:
        open_two = [
            asyncio.create_task(_call(limits, _scope(p)))
            for p in ("/internal/usage", "/api/webhooks/stripe")
        ]
        await asyncio.sleep(0)  # let both start (they wait on `release`)
        refused = await _call(limits, _scope("/internal/usage"))
        release.set()
        done = await asyncio.gather(*open_two)
        after = await _call(limits, _scope("/internal/usage"))
        return [refused, *done, after]

    refused, first, second, after = asyncio.run(drill())
    status, body, headers = _status_and_body(refused)
    assert (status, body["error"]["code"], headers[b"retry-after"]) == (
        503, "service_unavailable", b"1"
    )  # fmt: skip
    assert [first[0]["status"], second[0]["status"], after[0]["status"]] == [200, 200, 200]
    assert limits.open_batches == 0


def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closed() -> None:
    async def reads_body(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def trickle() -> Message:
        await asyncio.sleep(0.05)
        return {"type": "http.request", "body": b"x", "more_body": True}

    limits = Limits(reads_body, LimitSettings(body_timeout=0.3), known_key=lambda _: False)
    started = time.monotonic()
    sent = asyncio.run(_call(limits, _scope("/api/line-requests"), trickle))
    status, body, headers = _status_and_body(sent)
    assert (status, body["error"]["code"], headers[b"connection"]) == (
        408, "request_timeout", b"close"
    )  # fmt: skip
    assert time.monotonic() - started < 10  # cut off, not read for ever


def test_service_calls_are_not_rate_limited_and_keys_have_their_own_buckets() -> None:
    async def ok(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    limits = Limits(ok, LimitSettings(rate=1, burst=2), known_key=lambda t: t.startswith("tuco_"))

    def statuses(path: str, token: str | None, n: int) -> list[int]:
        scope = _scope(path, body=False, token=token)
        return [asyncio.run(_call(limits, scope))[0]["status"] for _ in range(n)]

    assert statuses("/api/line-requests", "tuco_a", 3) == [200, 200, 429]
    assert statuses("/api/line-requests", "tuco_b", 2) == [200, 200]
    assert statuses("/internal/usage", "svc", 10) == [200] * 10
    assert statuses("/api/webhooks/stripe", None, 10) == [200] * 10
    # Strings that are not known keys share their client's bucket.
    assert statuses("/api/line-requests", "junk1", 2) == [200, 200]
    assert statuses("/api/line-requests", "junk2", 1) == [429]


# -- through the app ----------------------------------------------------------------------------


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'limits.db'}", rate_limit=1.0, rate_burst=3,
        internal_token="svc-token",
    )  # fmt: skip
    services = build(settings)
    services.workspaces.create("org_rl", Plan.GROWTH, "RL", True)
    headers = {"Authorization": f"Bearer {services.keys.create('org_rl')}"}
    try:
        with TestClient(create_app(services, run_worker=False)) as c:
            yield c, headers
    finally:
        services.close()


def test_a_key_past_its_rate_gets_429_rate_limited_with_retry_after(
    limited: tuple[TestClient, dict[str, str]],
) -> None:
    client, headers = limited
    answers = [client.get("/api/lines/by-user", headers=headers) for _ in range(6)]
    statuses = [r.status_code for r in answers]
    assert 200 in statuses and statuses[-1] == 429, statuses
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    usage = {"batchId": "b1", "items": []}
    service = {"Authorization": "Bearer svc-token"}
    service_statuses = {
        client.post("/internal/usage", json=usage, headers=service).status_code for _ in range(6)
    }
    assert service_statuses == {422}  # judged on its merits (no items), never rate limited


# -- a real server ------------------------------------------------------------------------------


def _connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=15)


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection (or 15 s pass)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
def test_slow_bodies_connections_and_idle_keep_alive_on_a_real_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'slow.db'}"
    setup = build(Settings(database_url=url))
    setup.workspaces.create("org_slow", Plan.GROWTH, "Slow", True)
    key = setup.keys.create("org_slow")
    setup.close()
    env = {"TUCO_BODY_TIMEOUT": "1", "TUCO_MAX_CONNECTIONS": "6", "TUCO_RUN_WORKER": "0"}
    with running_server(url, env=env) as base_url:
        # A body that trickles in is cut off with 408; meanwhile the server keeps serving.
        slow = _connect(base_url)
        slow.sendall(
            f"POST /api/line-requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{".encode()
        )
        assert httpx.get(f"{base_url}/health", timeout=5).status_code == 200
        answer = _read_all(slow)
        slow.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert b"request_timeout" in answer

        # Connections past TUCO_MAX_CONNECTIONS get 503; closing them frees the server.
        idle = [_connect(base_url) for _ in range(6)]
        over = httpx.get(f"{base_url}/health", timeout=5)
        for sock in idle:
            sock.close()
        assert over.status_code == 503

        def serving() -> bool:
            return httpx.get(f"{base_url}/health", timeout=5).status_code == 200

        deadline = time.monotonic() + 10
        while not serving():
            assert time.monotonic() < deadline, "the server did not free the closed connections"
            time.sleep(0.05)  # polling a condition with a deadline

        # An idle keep-alive connection is closed by the server (after 5 s).
        keep = _connect(base_url)
        keep.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        answer = _read_all(keep)
        keep.close()
        assert answer.startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 14  # closed by the server, not by our timeout
