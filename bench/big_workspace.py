"""3. Big workspace: POST latency for a workspace that already holds 10k lines, against an
empty workspace of the same store and server; one client alternates its POSTs between the
two workspaces (paired), so noise from neighbours hits both."""

from __future__ import annotations

from typing import Any

from bench.common import Server, Sizes, log, paired, post_line_requests, ratio
from bench.read_path import BIG, EMPTY, Prepared
from bench.report import Row


def measure(big: Prepared, server: Server, sizes: Sizes) -> tuple[list[Row], dict[str, Any]]:
    backend = big.store.backend
    lines = sizes.big_workspace_lines
    log(f"big workspace on {backend}: {lines:,} lines vs empty")

    empty_r, full_r = paired(
        sizes,
        [
            (server, post_line_requests([big.keys[EMPTY]])),
            (server, post_line_requests([big.keys[BIG]])),
        ],
    )
    results = {"empty": empty_r, "big": full_r}
    empty, full = results["empty"], results["big"]
    rows = [
        Row("3 big ws", backend, "POST, empty workspace (1 conn)", empty, "ms"),
        Row(
            "3 big ws",
            backend,
            f"POST, workspace with {lines:,} lines (p50)",
            full,
            "ms",
            baseline="empty workspace",
            ratio=ratio(full["p50_ms"], empty["p50_ms"]),
            target=1.5,
            at_most=True,
        ),
        Row(
            "3 big ws",
            backend,
            f"POST, workspace with {lines:,} lines (p99)",
            full,
            "ms p99",
            baseline="empty workspace",
            ratio=ratio(full["p99_ms"], empty["p99_ms"]),
        ),
    ]
    return rows, results
