"""`make soak` / `python -m bench.soak`: mixed load on one `tuco serve` process for 10 minutes
(issue 12), printing per minute the requests, p50/p99 latency, the server's RSS, 5xx and cut
connections. Targets: RSS growth < 10% after warm-up, p99 stable within 2x, 0 5xx.

Warm-up is reported two ways, both honestly: after the first minute, and after the in-memory
caches are full (aggregates, views and folded rows, `TUCO_CACHE_SIZE` each; the soak caps them at
`--cache-size`, 2,000 by default, so they fill within the run; they are full once that many
requests exist). Until then the process is expected to grow. Exit status 1 when a target is
missed. Not part of CI (it takes the whole 10 minutes).

The clients list a page of lines (`--list-limit`, 50), as the dashboard and the client do: the
SPEC's unpaged `by-user` answers every line of the workspace, so under a load that keeps adding
lines its cost (and the process's high-water memory) grows with the workspace by design, and no
steady state exists to measure. `--list-limit 0` lists everything (to see that growth)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.drills import INTERNAL_TOKEN, KillableServer, make_workspaces
from tests.support.mixed_load import MixedLoad


@dataclass
class Minute:
    n: int
    requests: int
    p50_ms: float
    p99_ms: float
    rss_mb: float
    server_errors: int
    cut: int
    lines: int


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def growth(rows: list[Minute], start: int) -> float | None:
    """RSS growth from the end of minute `start` to the end of the run."""
    base = next((r.rss_mb for r in rows if r.n == start), None)
    return None if base is None or start >= rows[-1].n else rows[-1].rss_mb / base - 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=int, default=10)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--cache-size", type=int, default=2000, help="TUCO_CACHE_SIZE of the server")
    p.add_argument("--list-limit", type=int, default=50, help="by-user page size (0: all)")
    p.add_argument("--interval", type=float, default=60.0, help="seconds per row (a minute)")
    a = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tuco-soak-") as tmp:
        url = f"sqlite:///{tmp}/soak.db"
        keys = make_workspaces(url, prefix="org_soak")
        env = {"TUCO_SANDBOX_PROVISION_SECONDS": "0.3", "TUCO_CACHE_SIZE": str(a.cache_size)}
        server = KillableServer(url, env)
        server.start()
        assert server.proc is not None
        load = MixedLoad(lambda: server.url, keys, INTERNAL_TOKEN, record_latency=True,
                         list_limit=a.list_limit or None)  # fmt: skip
        stop = threading.Event()
        threads = [threading.Thread(target=load.run, args=(n, stop)) for n in range(a.clients)]
        for t in threads:
            t.start()
        rows: list[Minute] = []
        print(f"soak: {a.minutes} min, {a.clients} clients, SQLite, 1 process, "
              f"cache {a.cache_size}, lists {load.list_path}", flush=True)  # fmt: skip
        print(f"{'min':>3} {'requests':>9} {'p50 ms':>7} {'p99 ms':>7} {'RSS MB':>7} "
              f"{'5xx':>4} {'cut':>4} {'lines':>7}", flush=True)  # fmt: skip
        seen_errors = cut_before = 0
        try:
            for n in range(1, a.minutes + 1):
                time.sleep(a.interval)  # the measuring interval
                with load.lock:
                    window, load.stats.latencies = load.stats.latencies, []
                    errors = len(load.stats.server_errors) - seen_errors
                    seen_errors += errors
                    cut = load.stats.transport_errors - cut_before
                    cut_before = load.stats.transport_errors
                    lines = len(load.told)
                took = [s * 1000 for _, s in window]
                row = Minute(n, len(took), percentile(took, 0.5), percentile(took, 0.99),
                             rss_mb(server.proc.pid), errors, cut, lines)  # fmt: skip
                rows.append(row)
                print(f"{row.n:>3} {row.requests:>9,} {row.p50_ms:>7.1f} {row.p99_ms:>7.1f} "
                      f"{row.rss_mb:>7.1f} {row.server_errors:>4} {row.cut:>4} {row.lines:>7,}",
                      flush=True)  # fmt: skip
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
            server.stop()
    return report(rows, a.cache_size, load)


def report(rows: list[Minute], cache_size: int, load: MixedLoad) -> int:
    full = next((r.n for r in rows if r.lines >= cache_size), None)
    after_first = growth(rows, 1)
    after_full = growth(rows, full) if full is not None else None
    p99s = [r.p99_ms for r in rows[1:]] or [r.p99_ms for r in rows]
    spread = max(p99s) / max(min(p99s), 1e-9)
    errors = sum(r.server_errors for r in rows)

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x * 100:+.1f}%"

    print(f"RSS growth after minute 1: {pct(after_first)}; after the caches were full "
          f"(end of minute {full if full is not None else '-'}): {pct(after_full)}")  # fmt: skip
    print(f"p99 spread (minutes 2-{rows[-1].n}): {spread:.2f}x; 5xx: {errors}; "
          f"statuses {dict(load.stats.statuses)}")  # fmt: skip
    for line in load.stats.server_errors[:5]:
        print(f"  5xx: {line}")
    met = after_full is not None and after_full < 0.10 and spread <= 2.0 and errors == 0
    print("targets met" if met else "targets NOT met (RSS after warm-up < 10%, p99 2x, 0 5xx)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
