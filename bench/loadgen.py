"""Closed-loop HTTP/1.1 load generator, run as its own process: `python -m bench.loadgen SPEC`
(or `--serve`: one JSON spec per line on stdin, one JSON result per line on stdout).

SPEC is a JSON object (or `-` to read it from stdin):

    {"port": 8000, "concurrency": 16, "duration": 5, "warmup": 1, "max_requests": 100000,
     "mode": "pin" | "cycle", "stagger": 0.02,
     "requests": [{"method": "POST", "path": "/x", "headers": {...}, "body": "..."}]}

Each of `concurrency` keep-alive connections sends one request, waits for the whole response,
then sends the next. With mode "pin", connection i always sends requests[i % len(requests)]
(one workspace per connection); with "cycle" it walks the whole list starting at i.
Throughput counts the responses completed inside the measured window (after `warmup`),
whenever they were sent; latencies are those of every request sent inside the window,
however late its answer (waited for up to `timeout` seconds), so stalls show in p99.
Prints one JSON object: requests, rps, latency percentiles in ms, status counts,
unanswered requests and errors.

asyncio protocols with pre-encoded requests keep the client's own CPU cost low: on a 2-core
machine the client competes with the server, so a heavier client would flatten every ratio.
Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"


@dataclass
class Shared:
    start_at: float
    stop_at: float
    max_requests: int
    latencies: list[float] = field(default_factory=list)  # of requests sent in the window
    completed_in_window: int = 0
    in_flight: int = 0  # requests sent in the window and not answered yet
    status: dict[int, int] = field(default_factory=dict)
    sent: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)


def encode(port: int, req: dict[str, Any]) -> bytes:
    body = (req.get("body") or "").encode()
    lines = [f"{req.get('method', 'GET')} {req['path']} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{k}: {v}" for k, v in (req.get("headers") or {}).items()]
    if body or req.get("method", "GET") != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection(asyncio.Protocol):
    def __init__(
        self, shared: Shared, payloads: list[bytes], first: int, done: asyncio.Future[None]
    ):
        self.shared = shared
        self.payloads = payloads
        self.index = first
        self.done = done
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.need = -1
        self.status = 0
        self.sent_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.send_next()

    def send_next(self) -> None:
        s = self.shared
        assert self.transport is not None
        if time.perf_counter() >= s.stop_at or s.sent >= s.max_requests:
            self.transport.close()
            return
        payload = self.payloads[self.index % len(self.payloads)]
        self.index += 1
        self.buf.clear()
        self.need = -1
        self.sent_at = time.perf_counter()
        s.sent += 1
        if s.start_at <= self.sent_at:
            s.in_flight += 1
        self.transport.write(payload)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.need < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            self.status = int(head[9:12])
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            self.need = end + 4 + length
        if len(self.buf) < self.need:
            return
        now = time.perf_counter()
        s = self.shared
        if s.start_at <= now <= s.stop_at:
            s.completed_in_window += 1
        if s.start_at <= self.sent_at:
            s.in_flight -= 1
            s.latencies.append(now - self.sent_at)
            s.status[self.status] = s.status.get(self.status, 0) + 1
            if self.status >= 400 and len(s.error_samples) < 3:
                s.error_samples.append(bytes(self.buf[: self.need]).decode(errors="replace"))
        self.send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        partial = len(self.buf) < self.need if self.need >= 0 else bool(self.buf)
        if partial or exc is not None:
            self.shared.errors += 1
        if not self.done.done():
            self.done.set_result(None)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def factory(
    shared: Shared, payloads: list[bytes], first: int, done: asyncio.Future[None]
) -> Callable[[], Connection]:
    return lambda: Connection(shared, payloads, first, done)


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    port = int(spec["port"])
    concurrency = int(spec.get("concurrency", 1))
    duration = float(spec.get("duration", 5))
    warmup = float(spec.get("warmup", 0.5))
    payloads = [encode(port, r) for r in spec["requests"]]
    pinned = spec.get("mode", "cycle") == "pin"
    # Seconds between opening connections. Several uvicorn workers share one listening
    # socket and asyncio accepts a whole burst of pending connections at once, so
    # connections opened together all land on one worker process; spacing them out lets
    # every worker accept its share.
    stagger = float(spec.get("stagger", 0))
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    shared = Shared(
        start_at=t0 + warmup,
        stop_at=t0 + warmup + duration,
        max_requests=int(spec.get("max_requests", 10**9)),
    )
    waits: list[asyncio.Future[None]] = []
    for i in range(concurrency):
        done: asyncio.Future[None] = loop.create_future()
        mine = [payloads[i % len(payloads)]] if pinned else payloads
        if i and stagger:
            await asyncio.sleep(stagger)
        try:
            await loop.create_connection(factory(shared, mine, i, done), HOST, port)
        except OSError as e:
            shared.errors += 1
            shared.error_samples.append(f"connect: {e}")
            done.set_result(None)
        waits.append(done)
    timeout = warmup + duration + float(spec.get("timeout", 30))
    try:
        await asyncio.wait_for(asyncio.gather(*waits), timeout)
    except TimeoutError:
        shared.errors += 1
        shared.error_samples.append("timed out waiting for responses")
    window = shared.stop_at - shared.start_at
    lat = sorted(shared.latencies)
    ok = sum(n for code, n in shared.status.items() if code < 400)
    return {
        "requests": len(lat),
        "ok": ok,
        "seconds": round(window, 3),
        "rps": shared.completed_in_window / window if window > 0 else 0.0,
        "unanswered": shared.in_flight,
        "p50_ms": percentile(lat, 0.50) * 1000,
        "p90_ms": percentile(lat, 0.90) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
        "max_ms": (lat[-1] * 1000) if lat else float("nan"),
        "mean_ms": (sum(lat) / len(lat) * 1000) if lat else float("nan"),
        "status": {str(k): v for k, v in sorted(shared.status.items())},
        "errors": shared.errors + (len(lat) - ok),
        "error_samples": shared.error_samples,
        "concurrency": concurrency,
    }


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> int:
    writer.write(payload)
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    at = head.find(b"\r\ncontent-length:")
    length = int(head[at + 17 : head.find(b"\r\n", at + 2)]) if at >= 0 else 0
    await reader.readexactly(length)
    return int(head[9:12])


async def interleave(spec: dict[str, Any]) -> dict[str, Any]:
    """Paired latency comparison: one client alternates requests between targets (A B A B
    ...), each on its own keep-alive connection, so any burst of noise hits both alike.
    Spec: {"targets": [{"port": P, "requests": [...]}, ...], "duration", "warmup"}."""
    targets = spec["targets"]
    conns = []
    for t in targets:
        reader, writer = await asyncio.open_connection(HOST, int(t["port"]))
        conns.append((reader, writer, [encode(int(t["port"]), r) for r in t["requests"]]))
    warmup, duration = float(spec.get("warmup", 0.5)), float(spec.get("duration", 5))
    t0 = time.perf_counter()
    start_at, stop_at = t0 + warmup, t0 + warmup + duration
    lat: list[list[float]] = [[] for _ in targets]
    status: list[dict[int, int]] = [{} for _ in targets]
    i = 0
    while True:
        sent = time.perf_counter()
        if sent >= stop_at:
            break
        k = i % len(conns)
        reader, writer, payloads = conns[k]
        code = await _exchange(reader, writer, payloads[(i // len(conns)) % len(payloads)])
        if sent >= start_at:
            lat[k].append(time.perf_counter() - sent)
            status[k][code] = status[k].get(code, 0) + 1
        i += 1
    for _, writer, _ in conns:
        writer.close()
    results = []
    for k in range(len(targets)):
        values = sorted(lat[k])
        ok = sum(n for code, n in status[k].items() if code < 400)
        results.append(
            {
                "requests": len(values),
                "ok": ok,
                "seconds": duration,
                "rps": len(values) / duration,
                "p50_ms": percentile(values, 0.50) * 1000,
                "p90_ms": percentile(values, 0.90) * 1000,
                "p99_ms": percentile(values, 0.99) * 1000,
                "max_ms": (values[-1] * 1000) if values else float("nan"),
                "mean_ms": (sum(values) / len(values) * 1000) if values else float("nan"),
                "status": {str(c): n for c, n in sorted(status[k].items())},
                "errors": len(values) - ok,
                "error_samples": [],
                "concurrency": 1,
            }
        )
    return {"targets": results, "errors": sum(r["errors"] for r in results), "error_samples": []}


async def dispatch(spec: dict[str, Any]) -> dict[str, Any]:
    return await (interleave(spec) if "targets" in spec else run(spec))


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--serve":
        # One spec per input line, one result per output line: the benchmark keeps a
        # single load-generator process for the whole run instead of starting one per
        # measurement (Python's start-up is not free on a busy 2-core machine).
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(asyncio.run(dispatch(json.loads(line)))), flush=True)
        return 0
    raw = sys.stdin.read() if not argv or argv[0] == "-" else argv[0]
    print(json.dumps(asyncio.run(dispatch(json.loads(raw)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
