"""2. Read path: GET /api/line-requests/:id and GET /api/lines/by-user (a workspace with 50
lines), p50/p99 with a small store (1k events) and a big one (1M events). One client sends
its requests to the two servers in turn (paired), so noise from neighbours hits both."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from api.bootstrap import Services
from bench.common import Server, Sizes, Store, bearer, log, paired, ratio
from bench.fill import FillResult, fill, filler_plan
from bench.report import Row
from domain.enums import Channel, Plan

READER = "reader"
BIG = "bigws"
EMPTY = "emptyws"


@dataclass
class Prepared:
    store: Store
    fill: FillResult
    keys: dict[str, str] = field(default_factory=dict)
    reader_ids: list[UUID] = field(default_factory=list)


def prepare(
    store: Store, sizes: Sizes, total_events: int, big_workspace_lines: int
) -> tuple[Prepared, Services]:
    """Fill the store (the projection is left empty: the caller catches it up, which is the
    rebuild measurement). The reader workspace is the newest in the log, after the big
    workspace and the filler ones; the empty workspace is created first, through the API
    path, so its creation does not catch the projection up over the filler."""
    services = store.services()
    services.workspaces.create(EMPTY, Plan.GROWTH, EMPTY, True)
    services.workspaces.set_override(EMPTY, Channel.PHONE, 10**9, None)
    fixed = [(BIG, big_workspace_lines)] if big_workspace_lines else []
    fixed.append((READER, sizes.reader_lines))
    log(f"filling {store.backend} store with ~{total_events:,} events")
    result = fill(services, store, filler_plan(total_events, fixed, "filler"))
    log(f"  {result.events:,} events in {result.seconds:.1f} s ({result.events_per_s:,.0f}/s)")
    prepared = Prepared(store, result, reader_ids=result.line_ids[READER])
    for ws in (READER, EMPTY, *([BIG] if big_workspace_lines else [])):
        prepared.keys[ws] = services.keys.create(ws)
    store.analyze(store.events_table)
    return prepared, services


def measure(
    small: Prepared, big: Prepared, small_server: Server, big_server: Server, sizes: Sizes
) -> tuple[list[Row], dict[str, Any]]:
    backend = small.store.backend
    log(f"read path on {backend}: {small.fill.events:,} vs {big.fill.events:,} events")

    def gets(p: Prepared) -> list[dict[str, Any]]:
        auth = bearer(p.keys[READER])
        return [
            {"method": "GET", "path": f"/api/line-requests/{rid}", "headers": auth}
            for rid in p.reader_ids
        ]

    def lists(p: Prepared) -> list[dict[str, Any]]:
        return [{"method": "GET", "path": "/api/lines/by-user", "headers": bearer(p.keys[READER])}]

    get_small, get_big = paired(sizes, [(small_server, gets(small)), (big_server, gets(big))])
    list_small, list_big = paired(sizes, [(small_server, lists(small)), (big_server, lists(big))])
    results = {
        "get_small": get_small,
        "get_big": get_big,
        "list_small": list_small,
        "list_big": list_big,
    }
    s_ev, b_ev = f"{small.fill.events:,} ev", f"{big.fill.events:,} ev"
    rows: list[Row] = []
    for key, name in (("get", "GET /api/line-requests/:id"), ("list", "GET /api/lines/by-user")):
        lo, hi = results[f"{key}_small"], results[f"{key}_big"]
        rows += [
            Row("2 read", backend, f"{name} @ {s_ev}", lo, "ms"),
            Row(
                "2 read",
                backend,
                f"{name} @ {b_ev} (p50)",
                hi,
                "ms",
                baseline=f"same @ {s_ev}",
                ratio=ratio(hi["p50_ms"], lo["p50_ms"]),
                target=1.2,
                at_most=True,
            ),
            Row(
                "2 read",
                backend,
                f"{name} @ {b_ev} (p99)",
                hi,
                "ms p99",
                baseline=f"same @ {s_ev}",
                ratio=ratio(hi["p99_ms"], lo["p99_ms"]),
            ),
        ]
    return rows, results
