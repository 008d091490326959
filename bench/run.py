"""`make bench` / `python -m bench.run [--quick]`: every benchmark of issue 7, one table.

Each figure is compared with a baseline measured in the same run (the machines are shared
and noisy, so the ratios are what to compare over time). Prints the table and writes it,
with every raw figure, as JSON under bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import big_workspace, crud, read_path, replay, scale_out, write_path
from bench.common import (
    FULL,
    LOADGEN,
    QUICK,
    ROOT,
    Sizes,
    backends_available,
    fresh_store,
    hello,
    log,
    servers,
    tuco,
)
from bench.report import Row, meta, table, write_json

SECTIONS = ("write", "stores", "scale", "crud")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, short rounds (< 1 min)")
    p.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help="comma-separated: write (1), stores (2 read, 3 big workspace, 4 replay), scale (5), "
        "crud (6: product vs plain-CRUD baseline, SQLite)",
    )
    p.add_argument("--backends", default="sqlite,postgres", help="comma-separated")
    p.add_argument("--sqlite-events", type=int, help="events in the big SQLite store")
    p.add_argument("--pg-events", type=int, help="events in the big PostgreSQL store")
    p.add_argument(
        "--full-size", action="store_true", help="1M events in both big stores (slow on PG)"
    )
    p.add_argument("--rounds", type=int, help="alternating rounds per comparison")
    p.add_argument("--duration", type=float, help="measured seconds per load round")
    p.add_argument(
        "--with-rebuilder", action="store_true", help="also time the zero-downtime Rebuilder"
    )
    p.add_argument("--out", type=Path, help="JSON path (default bench/results/<time>.json)")
    return p.parse_args(argv)


# Big-store sizes of a full run. The issue asks for 1M events; on a shared 2-core machine
# filling, rebuilding and replaying 1M events takes 4-5 minutes per backend, so the default
# is 200k, which keeps the whole run within 10 minutes; --full-size measures 1M.
FULL_SQLITE_EVENTS = 200_000
FULL_PG_EVENTS = 200_000


def sizes_from(a: argparse.Namespace) -> tuple[Sizes, dict[str, int]]:
    sizes = QUICK if a.quick else FULL
    overrides: dict[str, Any] = {}
    if a.rounds:
        overrides["rounds"] = overrides["crud_rounds"] = a.rounds
    if a.duration:
        overrides["duration"] = a.duration
    sizes = dataclasses.replace(sizes, **overrides)
    big = {
        "sqlite": sizes.big_events if a.quick else FULL_SQLITE_EVENTS,
        "postgres": sizes.big_events if a.quick else FULL_PG_EVENTS,
    }
    if a.full_size:
        big = {"sqlite": 1_000_000, "postgres": 1_000_000}
    if a.sqlite_events:
        big["sqlite"] = a.sqlite_events
    if a.pg_events:
        big["postgres"] = a.pg_events
    return sizes, big


def write_phase(
    backends: list[str], sizes: Sizes, workdir: Path
) -> tuple[list[Row], dict[str, Any]]:
    """1. Every write-path server boots at once (hello-world and one `tuco serve` per
    backend); then the backends are measured one after the other."""
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    with ExitStack() as stack:
        stores = [stack.enter_context(fresh_store(b, workdir, "write")) for b in backends]
        keys = [write_path.prepare(store, sizes) for store in stores]
        launches = [hello(), *(tuco(store) for store in stores)]
        hello_world, *tucos = stack.enter_context(servers(*launches))
        for store, store_keys, server in zip(stores, keys, tucos, strict=True):
            r, res = write_path.measure(store, store_keys, server, hello_world, sizes)
            rows += r
            raw[f"write/{store.backend}"] = res
    return rows, raw


def stores_phase(
    backends: list[str], sizes: Sizes, big: dict[str, int], workdir: Path, with_rebuilder: bool
) -> tuple[list[Row], dict[str, Any]]:
    """2, 3 and 4 share two stores per backend: a small one and a big one that also holds
    the big workspace. Filling the big one leaves its projection empty: catching it up
    from position 0 is the rebuild measurement (4). Then every server boots at once."""
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    with ExitStack() as stack:
        prepared: list[tuple[read_path.Prepared, read_path.Prepared]] = []
        for backend in backends:
            small_store = stack.enter_context(fresh_store(backend, workdir, "small"))
            big_store = stack.enter_context(fresh_store(backend, workdir, "big"))
            small, services = read_path.prepare(small_store, sizes, sizes.small_events, 0)
            try:
                services.runner.catch_up()
            finally:
                services.close()
            small_store.analyze("line_views")
            big_ = read_path.prepare(big_store, sizes, big[backend], sizes.big_workspace_lines)
            big_prepared, services = big_
            try:
                r, res = replay.run(big_store, services, with_rebuilder)
            finally:
                services.close()
            big_store.analyze("line_views")
            rows += r
            raw[f"replay/{backend}"] = res
            raw[f"stores/{backend}"] = {
                "small_store_events": small.fill.events,
                "big_store_events": big_prepared.fill.events,
                "big_fill_events_per_s": big_prepared.fill.events_per_s,
            }
            prepared.append((small, big_prepared))
        launches = [tuco(p.store) for pair in prepared for p in pair]
        running = stack.enter_context(servers(*launches))
        for n, (small, big_prepared) in enumerate(prepared):
            small_server, big_server = running[2 * n], running[2 * n + 1]
            backend = small.store.backend
            r, res = read_path.measure(small, big_prepared, small_server, big_server, sizes)
            rows += r
            raw[f"read/{backend}"] = res
            r, res = big_workspace.measure(big_prepared, big_server, sizes)
            rows += r
            raw[f"big_workspace/{backend}"] = res
    return rows, raw


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    sizes, big = sizes_from(a)
    only = {s.strip() for s in a.only.split(",") if s.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        print(f"unknown section(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    backends, notes = backends_available([b.strip() for b in a.backends.split(",")])
    started, load_before = time.monotonic(), os.getloadavg()
    log(f"{sizes.name} run; backends {', '.join(backends)}; big stores {big}")
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tuco-bench-") as tmp, closing(LOADGEN):
        workdir = Path(tmp)
        if "write" in only:
            r, res = write_phase(backends, sizes, workdir)
            rows += r
            raw.update(res)
        if "stores" in only:
            r, res = stores_phase(backends, sizes, big, workdir, a.with_rebuilder)
            rows += r
            raw.update(res)
        if "scale" in only:
            if "postgres" in backends:
                r, res = scale_out.run(sizes, workdir)
                rows += r
                raw["scale/postgres"] = res
            else:
                notes.append("scale-out needs PostgreSQL: skipped")
        if "crud" in only:
            if "sqlite" in backends:
                r, res = crud.run(sizes, workdir)
                rows += r
                raw["crud/sqlite"] = res
            else:
                notes.append("the plain-CRUD comparison runs on SQLite: skipped")
    elapsed = time.monotonic() - started
    rows.sort(key=lambda r: (r.section, r.backend))
    text = table(rows)
    print(text)
    for note in notes:
        print(f"note: {note}")
    missed = [r for r in rows if r.met is False]
    print(
        f"\n{sizes.name} run took {elapsed:.0f} s; {len(missed)} of "
        f"{sum(r.met is not None for r in rows)} targets missed"
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = a.out or ROOT / "bench" / "results" / f"bench-{sizes.name}-{stamp}.json"
    extra = {
        "mode": sizes.name,
        "started_utc": stamp,
        "seconds": round(elapsed, 1),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "sizes": dataclasses.asdict(sizes),
        "big_store_events": big,
        "notes": notes,
        **meta(ROOT),
        "results": raw,
    }
    write_json(out, rows, extra)
    write_json(out.with_name(f"latest-{sizes.name}.json"), rows, extra)
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
