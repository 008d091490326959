"""1. Write path: POST /api/line-requests through uvicorn, against the raw append rate of the
same database and against hello-world Starlette on the same uvicorn settings."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bench.common import (
    Server,
    Sizes,
    Store,
    alternate,
    create_workspaces,
    load,
    log,
    post_line_requests,
    ratio,
)
from bench.fill import line_template
from bench.report import Row

RAW_TABLE = "bench_raw_events"


def sample_event(store: Store) -> tuple[str, bytes]:
    """Topic and state of a real `Requested` event: the payload of the raw appends."""
    services = store.services()
    try:
        requested = line_template(services, "sample").request[0]
        return requested.topic, requested.state
    finally:
        services.close()


class RawAppender:
    """One event row INSERTed and COMMITted at a time, on one connection of the event store's
    own driver, into a table shaped like the events table (same key, same payload size)."""

    def __init__(self, store: Store, topic: str, state: bytes) -> None:
        self.store = store
        self.topic = topic
        self.state = state
        self.conn = store.raw_connect()
        if store.backend == "sqlite":
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (originator_id TEXT, "
                "originator_version INTEGER, topic TEXT, state BLOB, "
                "PRIMARY KEY (originator_id, originator_version))"
            )
            self.sql = f"INSERT INTO {RAW_TABLE} VALUES (?, ?, ?, ?)"
        else:
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, topic text, state bytea, "
                "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
            )
            self.conn.commit()
            self.sql = (
                f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)"
            )

    def _append_one(self) -> None:
        oid = uuid.uuid4()
        if self.store.backend == "sqlite":
            self.conn.execute("BEGIN")
            self.conn.execute(self.sql, (oid.hex, 1, self.topic, self.state))
            self.conn.execute("COMMIT")
        else:
            self.conn.execute(self.sql, (oid, 1, self.topic, self.state))
            self.conn.commit()

    def run(self, seconds: float) -> dict[str, Any]:
        latencies: list[float] = []
        started = time.perf_counter()
        stop = started + seconds
        while True:
            t = time.perf_counter()
            if t >= stop:
                break
            self._append_one()
            latencies.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - started
        latencies.sort()
        n = len(latencies)
        return {
            "requests": n,
            "seconds": elapsed,
            "rps": n / elapsed,
            "p50_ms": latencies[n // 2] * 1000,
            "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000,
            "errors": 0,
        }

    def close(self) -> None:
        self.conn.close()


def wait_until_worker_idle(store: Store, timeout: float = 30.0) -> None:
    """The sandbox activates each new line ~2 s after its POST (a background write); wait
    for those writes to finish so they do not land in the next measurement."""
    conn = store.raw_connect()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            cur = conn.execute("SELECT count(*) FROM line_views WHERE state = 'provisioning'")
            left = cur.fetchone()[0]
            if store.backend == "postgres":
                conn.rollback()
            if left == 0:
                return
            time.sleep(0.2)
    finally:
        conn.close()


def prepare(store: Store, sizes: Sizes) -> list[str]:
    """Workspaces with unlimited included phone lines, one per connection; their keys."""
    services = store.services()
    try:
        return create_workspaces(services, "w", sizes.write_concurrency)
    finally:
        services.close()


def measure(
    store: Store, keys: list[str], tuco: Server, hello: Server, sizes: Sizes
) -> tuple[list[Row], dict[str, Any]]:
    backend = store.backend
    log(f"write path on {backend}")
    topic, state = sample_event(store)
    raw = RawAppender(store, topic, state)
    hello_body = json.dumps({"requestedChannelType": "phone", "firstName": "Bench"})
    headers = {"Content-Type": "application/json"}
    c = sizes.write_concurrency

    def hello_at(path: str) -> Any:
        req = [{"method": "POST", "path": path, "headers": headers, "body": hello_body}]
        return lambda: load(hello, req, sizes, concurrency=c)

    def post(connections: int) -> Any:
        def measure_once() -> dict[str, Any]:
            result = load(
                tuco,
                post_line_requests(keys[:connections]),
                sizes,
                concurrency=connections,
                mode="pin",
            )
            if sizes.settle:
                wait_until_worker_idle(store)
            return result

        return measure_once

    measures = {
        "raw": lambda: raw.run(sizes.raw_seconds),
        "hello": hello_at("/hello"),
        "post": post(c),
    }
    if sizes.extras:
        measures["hello_pool"] = hello_at("/hello-pool")
        measures["post1"] = post(1)
    try:
        results = alternate(sizes.rounds, measures)
    finally:
        raw.close()
    post_r, raw_r = results["post"], results["raw"]
    rows = [
        Row("1 write", backend, "raw append+commit (1 conn)", raw_r, "rps"),
        Row("1 write", backend, "hello-world POST (async)", results["hello"], "rps"),
        Row(
            "1 write",
            backend,
            f"POST /api/line-requests ({c} conns)",
            post_r,
            "rps",
            baseline="raw append+commit",
            ratio=ratio(post_r["rps"], raw_r["rps"]),
            target=0.5,
        ),
        Row(
            "1 write",
            backend,
            "POST vs hello-world (async)",
            post_r,
            "rps",
            baseline="hello-world POST (async)",
            ratio=ratio(post_r["rps"], results["hello"]["rps"]),
        ),
    ]
    if "post1" in results:
        rows[2:2] = [
            Row(
                "1 write",
                backend,
                "hello-world POST (thread pool)",
                results["hello_pool"],
                "rps",
            ),
            Row(
                "1 write",
                backend,
                "POST /api/line-requests (1 conn)",
                results["post1"],
                "rps",
                baseline="raw append+commit",
                ratio=ratio(results["post1"]["rps"], raw_r["rps"]),
            ),
        ]
        rows.append(
            Row(
                "1 write",
                backend,
                "POST vs hello-world (thread pool)",
                post_r,
                "rps",
                baseline="hello-world POST (thread pool)",
                ratio=ratio(post_r["rps"], results["hello_pool"]["rps"]),
            )
        )
    return rows, results
