"""5. Scale-out on PostgreSQL: POST throughput with 1, 2 and 4 `tuco serve` processes, the
load spread over 64 workspaces; the plain-CRUD baseline (bench/crud_app.py) with 1 and 2
processes on the same data for reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import (
    Launch,
    Sizes,
    combine,
    crud,
    fresh_store,
    load,
    log,
    post_line_requests,
    ratio,
    servers,
    tuco,
)
from bench.crud import seed_both, spread_names
from bench.report import Row

# Connections open this far apart, so that every worker process accepts its share of them
# (see bench/loadgen.py: opened together, they all land on one process).
STAGGER = 0.02
CRUD_WORKERS = (1, 2)


def run(sizes: Sizes, workdir: Path) -> tuple[list[Row], dict[str, Any]]:
    """Servers run one at a time (each process holds its own connection pools, and
    PostgreSQL allows 100 connections, and an idle server's threads would take CPU from the
    measured one). The configurations alternate over `scale_rounds` rounds (A B C, C B A),
    each round starting its server afresh, so that a neighbour's burst of load hits them all
    alike; the figures are medians. Each of the `scale_concurrency` connections walks the
    64 workspaces (mode "cycle"), so two of them sometimes hit the same workspace at once.
    The product runs with `--no-worker`: no background activations write during a
    measurement. On a 2-core machine, one server process already takes most of a core, and
    PostgreSQL and the load generator most of the other: the CRUD rows show how much
    headroom the machine had for a second process."""
    log("scale-out on postgres")
    with (
        fresh_store("postgres", workdir, "scale") as store,
        fresh_store("postgres", workdir, "scale-crud") as crud_store,
    ):
        keys = seed_both(store, crud_store.url, spread_names())
        requests = post_line_requests(list(keys.values()))
        launches: dict[str, Launch] = {
            f"product/{n}": tuco(store, n, no_worker=True) for n in sizes.scale_workers
        }
        launches |= {f"crud/{n}": crud(crud_store.url, n) for n in CRUD_WORKERS}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in launches}
        for n in range(sizes.scale_rounds):
            order = list(launches.items())
            for name, launch in reversed(order) if n % 2 else order:
                with servers(launch) as (server,):
                    result = load(
                        server,
                        requests,
                        sizes,
                        concurrency=sizes.scale_concurrency,
                        mode="cycle",
                        stagger=STAGGER,
                    )
                runs[name].append(result)
                log(f"  {name} process(es): {result['rps']:.0f} req/s")
    r = {name: combine(rs) for name, rs in runs.items()}
    c = f"{len(keys)} ws, {sizes.scale_concurrency} conns"
    one = r[f"product/{sizes.scale_workers[0]}"]
    crud_one = r["crud/1"]
    rows = [
        Row("5 scale", "postgres", f"CRUD POST, 1 process ({c})", crud_one, "rps"),
        Row(
            "5 scale",
            "postgres",
            f"CRUD POST, 2 processes ({c})",
            r["crud/2"],
            "rps",
            baseline="CRUD, 1 process",
            ratio=ratio(r["crud/2"]["rps"], crud_one["rps"]),
        ),
        Row(
            "5 scale",
            "postgres",
            f"POST, 1 process ({c})",
            one,
            "rps",
            baseline="CRUD, 1 process",
            ratio=ratio(one["rps"], crud_one["rps"]),
        ),
    ]
    for n in sizes.scale_workers[1:]:
        rows.append(
            Row(
                "5 scale",
                "postgres",
                f"POST, {n} processes ({c})",
                r[f"product/{n}"],
                "rps",
                baseline="1 process",
                ratio=ratio(r[f"product/{n}"]["rps"], one["rps"]),
                target=1.6 if n == 2 else None,
            )
        )
    return rows, {
        name: {k: v for k, v in x.items() if k != "error_samples"} for name, x in r.items()
    }
