"""5. Scale-out on PostgreSQL: POST throughput with 1, 2 and 4 `tuco serve` processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import (
    Sizes,
    combine,
    create_workspaces,
    fresh_store,
    load,
    log,
    post_line_requests,
    ratio,
    tuco_server,
)
from bench.report import Row
from bench.write_path import wait_until_worker_idle

# Connections open this far apart, so that every worker process accepts its share of them
# (see bench/loadgen.py: opened together, they all land on one process).
STAGGER = 0.02


def run(sizes: Sizes, workdir: Path) -> tuple[list[Row], dict[str, Any]]:
    """Servers run one at a time (each process holds its own connection pools, and
    PostgreSQL allows 100 connections), each started once (booting 4 workers on a busy
    2-core machine takes several seconds) and measured `scale_rounds` times."""
    log("scale-out on postgres")
    with fresh_store("postgres", workdir, "scale") as store:
        services = store.services()
        try:
            keys = create_workspaces(services, "s", sizes.scale_concurrency)
        finally:
            services.close()
        runs: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes.scale_workers}
        for workers in sizes.scale_workers:
            with tuco_server(store, workers=workers) as server:
                for _ in range(sizes.scale_rounds):
                    runs[workers].append(
                        load(
                            server,
                            post_line_requests(keys),
                            sizes,
                            concurrency=sizes.scale_concurrency,
                            mode="pin",
                            stagger=STAGGER,
                        )
                    )
                    if sizes.settle:
                        wait_until_worker_idle(store)
            rps = [round(r["rps"]) for r in runs[workers]]
            log(f"  {workers} process(es): {rps} req/s")
    results = {n: combine(rs) for n, rs in runs.items()}
    one = results[sizes.scale_workers[0]]
    rows = [Row("5 scale", "postgres", "POST, 1 process", one, "rps")]
    for n in sizes.scale_workers[1:]:
        rows.append(
            Row(
                "5 scale",
                "postgres",
                f"POST, {n} processes",
                results[n],
                "rps",
                baseline="1 process",
                ratio=ratio(results[n]["rps"], one["rps"]),
                target=1.6 if n == 2 else None,
            )
        )
    return rows, {str(n): r for n, r in results.items()}
