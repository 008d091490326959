"""6. Plain-CRUD baseline: the product against bench/crud_app.py (plain SQL rows on the same
stack and database) on the same endpoints, measured in the same run; rows print
product ÷ CRUD. SQLite files, one server process each, 32 connections from the load
generator's process. Both sides hold the same workspaces and API keys, every workspace with a
phone override that makes every request included (so every POST is a 201), and the product
runs with `--no-worker` (no sandbox activations writing during a measurement)."""

from __future__ import annotations

import sqlite3
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import httpx

from bench import crud_schema
from bench.common import (
    Server,
    Sizes,
    Store,
    alternate,
    bearer,
    crud,
    fresh_store,
    load,
    log,
    post_line_requests,
    ratio,
    servers,
    tuco,
)
from bench.report import Row
from domain.enums import Channel, Plan

CONNECTIONS = 32
SPREAD = 64  # workspaces of the spread-out POST load
READERS = 16  # workspaces the reads use, each holding READER_LINES lines
READER_LINES = 30
OVERRIDE = 10_000_000  # phone: included = max, so every POST is included (a 201)
ONE, SPREAD_PREFIX, READER_PREFIX = "one", "s", "r"


def seed_both(product: Store, crud_url: str, workspaces: list[str]) -> dict[str, str]:
    """The same growth workspaces (active, phone override) and API keys on both sides; the
    product's through its Services factory, as `tuco workspaces create/override` and
    `tuco keys create` do. Returns workspace -> key."""
    services = product.services()
    keys: dict[str, str] = {}
    try:
        for ws in workspaces:
            services.workspaces.create(ws, Plan.GROWTH, ws, True)
            services.workspaces.set_override(ws, Channel.PHONE, OVERRIDE, OVERRIDE)
            keys[ws] = services.keys.create(ws)
    finally:
        services.close()
    crud_schema.create_schema(crud_url)
    crud_schema.seed(crud_url, keys, OVERRIDE, OVERRIDE)
    return keys


def spread_names(count: int = SPREAD) -> list[str]:
    return [f"{SPREAD_PREFIX}{i:03d}" for i in range(count)]


def fill_readers(server: Server, keys: dict[str, str], readers: list[str]) -> list[list[str]]:
    """READER_LINES POSTs per reader workspace through the API (the same data on both sides);
    returns each workspace's line ids, newest first, as by-user lists them."""
    body = {"requestedChannelType": "phone", "firstName": "Bench", "lastName": "Reader"}
    ids: list[list[str]] = []
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for _ in range(READER_LINES):
            for ws in readers:
                r = client.post("/api/line-requests", json=body, headers=bearer(keys[ws]))
                r.raise_for_status()
        for ws in readers:
            r = client.get("/api/lines/by-user", headers=bearer(keys[ws]))
            r.raise_for_status()
            lines = [line["_id"] for line in r.json()["lines"]]
            assert len(lines) == READER_LINES, f"{ws} lists {len(lines)} lines"
            ids.append(lines)
    return ids


def same_shape(product: Server, baseline: Server, keys: dict[str, str], ws: str) -> None:
    """Both sides answer a by-user list with the same fields (the CRUD side must not do
    less work because it renders less): logs the difference, if any."""
    shapes = []
    for server in (product, baseline):
        r = httpx.get(f"{server.base_url}/api/lines/by-user", headers=bearer(keys[ws]))
        line = r.json()["lines"][0]
        shapes.append({k: type(v).__name__ for k, v in line.items()})
    if shapes[0] != shapes[1]:
        log(f"  LINE shapes differ: product {shapes[0]} vs CRUD {shapes[1]}")


def gets(keys: dict[str, str], readers: list[str], ids: list[list[str]]) -> list[dict[str, Any]]:
    """Every reader line, workspaces interleaved (the same order on both sides)."""
    return [
        {"method": "GET", "path": f"/api/line-requests/{ids[w][n]}", "headers": bearer(keys[ws])}
        for n in range(READER_LINES)
        for w, ws in enumerate(readers)
    ]


def lists(keys: dict[str, str], readers: list[str]) -> list[dict[str, Any]]:
    return [
        {"method": "GET", "path": "/api/lines/by-user", "headers": bearer(keys[ws])}
        for ws in readers
    ]


def compare(
    name: str, product: dict[str, Any], baseline: dict[str, Any], target: float
) -> list[Row]:
    """A CRUD row (its figures) and a product row with product ÷ CRUD req/s."""
    return [
        Row("6 crud", "sqlite", f"CRUD {name}", baseline, "rps"),
        Row(
            "6 crud",
            "sqlite",
            f"product {name}",
            product,
            "rps",
            baseline=f"CRUD {name}",
            ratio=ratio(product["rps"], baseline["rps"]),
            target=target,
        ),
    ]


def run(sizes: Sizes, workdir: Path) -> tuple[list[Row], dict[str, Any]]:
    log("plain-CRUD baseline on sqlite")
    readers = [f"{READER_PREFIX}{i:03d}" for i in range(READERS)]
    spread = spread_names()
    with ExitStack() as stack:
        product_store = stack.enter_context(fresh_store("sqlite", workdir, "crud-product"))
        crud_store = stack.enter_context(fresh_store("sqlite", workdir, "crud-baseline"))
        keys = seed_both(product_store, crud_store.url, [ONE, *spread, *readers])
        product, baseline = stack.enter_context(
            servers(tuco(product_store, no_worker=True), crud(crud_store.url))
        )
        ids = {
            "product": fill_readers(product, keys, readers),
            "crud": fill_readers(baseline, keys, readers),
        }
        same_shape(product, baseline, keys, readers[0])

        def measure(server: Server, requests: list[dict[str, Any]], mode: str) -> Any:
            return lambda: load(server, requests, sizes, concurrency=CONNECTIONS, mode=mode)

        def read(side: str, server: Server, kind: str) -> Any:
            requests = gets(keys, readers, ids[side]) if kind == "get" else lists(keys, readers)
            return measure(server, requests, "cycle")

        sides = {"product": product, "crud": baseline}
        # Reads first, while both stores hold only the reader lines; then the writes.
        results = alternate(
            sizes.crud_rounds,
            {
                f"{kind}/{side}": read(side, s, kind)
                for kind in ("get", "list")
                for side, s in sides.items()
            },
        )
        one, spread_posts = (
            post_line_requests([keys[ONE]]),
            post_line_requests([keys[ws] for ws in spread]),
        )
        results |= alternate(
            sizes.crud_rounds,
            {
                f"{kind}/{side}": measure(s, one if kind == "post_one" else spread_posts, "cycle")
                for kind in ("post_one", "post_spread")
                for side, s in sides.items()
            },
        )
        assert crud_store.path is not None
        with closing(sqlite3.connect(crud_store.path)) as conn:
            (held,) = conn.execute(
                "SELECT count(*) FROM line_requests WHERE workspace_id = ?", (ONE,)
            ).fetchone()
    log(f"  the one workspace holds {held:,} lines on the CRUD side")
    for name, result in results.items():
        if result.get("errors"):
            log(f"  {name}: {result['errors']} responses were not 2xx")
    r = {
        name: {k: v for k, v in res.items() if k != "error_samples"}
        for name, res in results.items()
    }
    conns = f"{CONNECTIONS} conns"
    rows = [
        *compare(f"POST, 1 workspace ({conns})", r["post_one/product"], r["post_one/crud"], 3),
        Row(
            "6 crud",
            "sqlite",
            "product POST, 1 workspace: p99",
            r["post_one/product"],
            "ms p99",
            baseline="CRUD p99 in its row",
            target=50,
            at_most=True,
            absolute=True,
        ),
        *compare(
            f"POST, {SPREAD} workspaces ({conns})",
            r["post_spread/product"],
            r["post_spread/crud"],
            3,
        ),
        *compare(f"GET /api/line-requests/:id ({conns})", r["get/product"], r["get/crud"], 2),
        *compare(
            f"GET /api/lines/by-user, {READER_LINES} lines ({conns})",
            r["list/product"],
            r["list/crud"],
            2,
        ),
    ]
    return rows, {**r, "crud_one_workspace_lines": held}
