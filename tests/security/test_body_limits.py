"""Bodies over the limit, and bodies that are not JSON, against a real `tuco serve` (security
review, finding 2; SPEC §7 413 `payload_too_large`, 415 `unsupported_media_type`).

Raw sockets, because the point is what the server does before a body has arrived: a declared
5 MB body is refused before a byte of it is sent; a chunked body is cut off while it streams;
an unauthenticated caller is answered 401 without the server waiting for its body."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.config import Settings
from api.body_limits import BodyLimits
from api.bootstrap import build
from domain.enums import Plan
from tests.http.helpers import phone_body
from tests.support.server import running_server

FIVE_MB = 5 * 1024 * 1024
SOME_ID = "00000000-0000-4000-8000-000000000000"


@dataclass
class Server:
    base_url: str
    key: str

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One sandbox `tuco serve` for the module, with a workspace and its API key."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('bodies')) / 'tuco.db'}"
    with running_server(url, env={"TUCO_BILLING": "sandbox"}) as base_url:
        services = build(Settings(database_url=url, public_url=base_url))
        try:
            services.workspaces.create("org_bodies", Plan.GROWTH, "Bodies", True)
            key = services.keys.create("org_bodies")
        finally:
            services.close()
        yield Server(base_url, key)


def connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    sock.settimeout(20)
    return sock


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], Any]:
    """One response: status, headers, JSON body (read to its Content-Length or EOF)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    raw_head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the response body"
        body += chunk
    return int(status_line.split()[1]), headers, json.loads(body[:length] or b"null")


def declared_only(
    server: Server, path: str, length: int, **headers: str
) -> tuple[int, dict[str, str], Any]:
    """Send the request head declaring `length` body bytes, and none of the body."""
    with connect(server) as sock:
        sock.sendall(
            head(
                "POST",
                path,
                {"Content-Type": "application/json", "Content-Length": str(length), **headers},
            )
        )
        return read_response(sock)


def auth(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.key}"}


def test_a_declared_5_mb_body_is_refused_before_it_is_sent(server: Server) -> None:
    status, headers, body = declared_only(server, "/api/line-requests", FIVE_MB, **auth(server))
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert headers.get("connection") == "close"


def test_a_declared_5_mb_usage_batch_is_refused_before_it_is_sent(server: Server) -> None:
    status, _, body = declared_only(server, "/internal/usage", FIVE_MB)
    assert (status, body["error"]["code"]) == (413, "payload_too_large")


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(server: Server) -> None:
    chunk = b" " * 16384
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with connect(server) as sock:
        sock.sendall(
            head(
                "POST",
                "/api/line-requests",
                {
                    "Content-Type": "application/json",
                    "Transfer-Encoding": "chunked",
                    **auth(server),
                },
            )
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.005)
            if readable:
                break  # the server answered while the body was still coming
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(chunk)
        status, _, body = read_response(sock)
    assert (status, body["error"]["code"]) == (413, "payload_too_large")
    assert sent > 64 * 1024  # it was the size that was refused, and the body never ended


@pytest.mark.parametrize(
    "path", ["/internal/usage", "/api/line-requests", f"/api/line-requests/{SOME_ID}"]
)
def test_an_unauthenticated_caller_is_answered_without_waiting_for_its_body(
    server: Server, path: str
) -> None:
    status, _, body = declared_only(server, path, 1000)  # 1,000 bytes promised, none sent
    assert (status, body["error"]["code"]) == (401, "unauthorized")


def test_a_wrong_token_on_usage_is_answered_without_waiting_for_its_body(server: Server) -> None:
    status, _, _ = declared_only(server, "/internal/usage", 1000, Authorization="Bearer nope")
    assert status == 401


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_json_is_unsupported_media_type(
    server: Server, content_type: str
) -> None:
    r = httpx.post(
        f"{server.base_url}/api/line-requests",
        content=json.dumps(phone_body(lastName="Media")).encode(),
        headers=auth(server) | {"Content-Type": content_type},
        trust_env=False,
    )
    assert r.status_code == 415, r.text
    assert r.json()["error"]["code"] == "unsupported_media_type"
    lines = httpx.get(f"{server.base_url}/api/lines/by-user", headers=auth(server), trust_env=False)
    assert all(x["lastName"] != "Media" for x in lines.json()["lines"])


def test_json_with_a_charset_is_accepted_and_the_server_still_serves(server: Server) -> None:
    r = httpx.post(
        f"{server.base_url}/api/line-requests",
        content=json.dumps(phone_body(lastName="Charset")).encode(),
        headers=auth(server) | {"Content-Type": "application/json; charset=utf-8"},
        trust_env=False,
    )
    assert r.status_code == 201, r.text
    assert httpx.get(f"{server.base_url}/health", trust_env=False).status_code == 200


def test_the_middleware_stops_pulling_a_streamed_body_at_the_limit() -> None:
    """In process: an endless body is pulled only until it passes the limit."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def endless(_: Any = None) -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def reads_everything(scope: Any, receive: Any, send: Any) -> None:
        while True:
            await receive()

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/line-requests", "headers": []}
    asyncio.run(BodyLimits(reads_everything, lambda _: 10_000)(scope, endless, send))
    assert pulled == 11  # 11,000 bytes: the first pull past 10,000
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "payload_too_large"
