"""What every benchmark shares: sizes, fresh databases, servers, the load generator, stats."""

from __future__ import annotations

import json
import os
import select
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg

from adapters.config import Settings
from api.bootstrap import Services, build
from domain.enums import Channel, Plan
from tests.support.databases import PG_DSN, postgres_available, postgres_url
from tests.support.server import TUCO, free_port, stop_process_group, wait_until_serving

ROOT = Path(__file__).absolute().parent.parent
LOADGEN_OVERHEAD_S = 30.0


@dataclass(frozen=True)
class Sizes:
    """How big and how long. `full` is the default run; `quick` only proves the machinery."""

    name: str
    duration: float  # measured seconds of one load round
    warmup: float  # seconds of load before a round's window opens
    rounds: int  # A/B measurements alternate (A B, B A, ...) this many times; medians reported
    write_concurrency: int  # connections of the write-path load, one workspace each
    raw_seconds: float  # one raw-append round
    small_events: int  # the "1k events" store
    big_events: int  # the "1M events" store
    reader_lines: int  # lines of the workspace that the read path lists
    big_workspace_lines: int  # lines of the big workspace
    scale_workers: tuple[int, ...]
    scale_concurrency: int
    scale_rounds: int
    settle: bool  # wait for the worker's background writes between measurements
    extras: bool  # also the thread-pool hello-world and the 1-connection POST
    late: float  # seconds to wait for answers still due when a window closes
    crud_rounds: int  # product/CRUD rounds of the plain-CRUD comparison (6)


FULL = Sizes(
    name="full",
    duration=3.0,
    warmup=0.5,
    rounds=2,
    write_concurrency=16,
    raw_seconds=2.0,
    small_events=1_000,
    big_events=1_000_000,
    reader_lines=50,
    big_workspace_lines=10_000,
    scale_workers=(1, 2, 4),
    scale_concurrency=32,
    scale_rounds=2,
    settle=True,
    extras=True,
    late=30.0,
    crud_rounds=3,
)

QUICK = Sizes(
    name="quick",
    duration=0.5,
    warmup=0.3,
    rounds=1,
    write_concurrency=8,
    raw_seconds=0.5,
    small_events=1_000,
    big_events=10_000,
    reader_lines=50,
    big_workspace_lines=500,
    scale_workers=(1, 2),
    scale_concurrency=16,
    scale_rounds=1,
    settle=False,
    extras=False,
    late=2.0,
    crud_rounds=1,
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- databases ----------------------------------------------------------------------------


@dataclass
class Store:
    """One fresh database: a SQLite file or a PostgreSQL schema of its own."""

    backend: str  # "sqlite" | "postgres"
    url: str
    path: Path | None = None  # SQLite file
    schema: str | None = None  # PostgreSQL schema
    facts: dict[str, Any] = field(default_factory=dict)

    def services(self) -> Services:
        return build(Settings(database_url=self.url))

    def raw_connect(self) -> Any:
        """A plain DB-API connection with the event store's own driver and settings."""
        if self.backend == "sqlite":
            assert self.path is not None
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            return conn
        return psycopg.connect(PG_DSN, options=f"-c search_path={self.schema}")

    def analyze(self, *tables: str) -> None:
        """On PostgreSQL, what autovacuum does soon after a bulk load (planner statistics);
        SQLite has no automatic ANALYZE, and the service never runs one."""
        if self.backend != "postgres":
            return
        conn = self.raw_connect()
        conn.autocommit = True
        for table in tables:
            conn.execute(f"ANALYZE {self.schema}.{table}")
        conn.close()

    @property
    def events_table(self) -> str:
        return "stored_events" if self.backend == "sqlite" else "tucolines_events"


def backends_available(wanted: list[str]) -> tuple[list[str], list[str]]:
    """(usable backends, notes about the ones left out)."""
    usable, notes = [], []
    for backend in wanted:
        if backend == "postgres" and not postgres_available():
            notes.append("PostgreSQL is not reachable on 127.0.0.1:5432: its rows are skipped")
            continue
        usable.append(backend)
    return usable, notes


@contextmanager
def fresh_store(backend: str, workdir: Path, name: str) -> Iterator[Store]:
    if backend == "sqlite":
        path = workdir / f"{name}.db"
        yield Store(backend, f"sqlite:///{path}", path=path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with postgres_url() as url:
        schema = parse_qs(urlsplit(url).query)["schema"][0]
        yield Store(backend, url, schema=schema)


def create_workspaces(services: Services, prefix: str, count: int) -> list[str]:
    """`count` growth workspaces with unlimited included phone lines; returns their API keys."""
    keys = []
    for i in range(count):
        ws = f"{prefix}{i:03d}"
        services.workspaces.create(ws, Plan.GROWTH, ws, True)
        services.workspaces.set_override(ws, Channel.PHONE, 10**9, None)
        keys.append(services.keys.create(ws))
    return keys


# --- servers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


@dataclass(frozen=True)
class Launch:
    """How to start one server process: argv after the port is known, extra env, workers."""

    argv: Callable[[int], list[str]]
    env: dict[str, str]
    workers: int = 1


def tuco(store: Store, workers: int = 1, *, no_worker: bool = False) -> Launch:
    """`tuco serve --workers N` on the store, with the service's default settings; the same
    environment as the integration tests' servers (tests/support/server.py). `no_worker`:
    `--no-worker`, so no background writes (sandbox activations) land in a measurement."""

    def argv(port: int) -> list[str]:
        args = [TUCO, "serve", "--port", str(port), "--workers", str(workers)]
        return [*args, "--no-worker"] if no_worker else args

    return Launch(argv, {"TUCO_DATABASE_URL": store.url}, workers)


def hello(workers: int = 1) -> Launch:
    def argv(port: int) -> list[str]:
        return [sys.executable, "-m", "bench.hello", "--port", str(port), "--workers", str(workers)]

    return Launch(argv, {}, workers)


def crud(url: str, workers: int = 1) -> Launch:
    """The plain-CRUD baseline (bench/crud_app.py) on its own database `url`."""

    def argv(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "bench.crud_app",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]

    return Launch(argv, {"CRUD_DATABASE_URL": url}, workers)


@contextmanager
def servers(*launches: Launch) -> Iterator[list[Server]]:
    """Start every server at once (they boot in parallel), wait until each answers /health
    and, with several workers, until every worker process has finished booting."""
    procs: list[tuple[subprocess.Popen[bytes], str, int]] = []
    try:
        for launch in launches:
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            env = {
                **os.environ,
                "TUCO_PUBLIC_URL": base_url,
                "TUCO_LOG_LEVEL": "WARNING",
                **launch.env,
            }
            proc = subprocess.Popen(launch.argv(port), cwd=ROOT, env=env, start_new_session=True)
            procs.append((proc, base_url, launch.workers))
        for proc, base_url, workers in procs:
            wait_until_serving(base_url, proc, timeout=90)
            if workers > 1:
                wait_for_workers(proc.pid, workers)
        yield [Server(base_url, proc.pid) for proc, base_url, _ in procs]
    finally:
        for proc, _, _ in procs:
            stop_process_group(proc)


@contextmanager
def tuco_server(store: Store, workers: int = 1) -> Iterator[Server]:
    with servers(tuco(store, workers)) as (server,):
        yield server


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) != pid:
                continue
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            if b"resource_tracker" not in cmdline:  # multiprocessing's helper, not a worker
                kids.append(int(entry))
    return kids


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def wait_for_workers(pid: int, workers: int, timeout: float = 60.0) -> None:
    """uvicorn answers as soon as its first worker is up; the others may still be importing
    and building their services. Wait until `workers` children exist and have gone quiet
    (almost no CPU for half a second). Linux /proc only; elsewhere, a fixed pause."""
    if not Path("/proc/self/stat").exists():
        time.sleep(3.0)
        return
    deadline = time.monotonic() + timeout
    before = -1
    while time.monotonic() < deadline:
        kids = _children(pid)
        ticks = _cpu_ticks(kids)
        if len(kids) >= workers and before >= 0 and ticks - before <= 5:
            return
        before = ticks if len(kids) >= workers else -1
        time.sleep(0.5)
    log(f"  workers of {pid} still busy after {timeout:.0f} s; measuring anyway")


# --- load ---------------------------------------------------------------------------------


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def post_line_requests(keys: list[str]) -> list[dict[str, Any]]:
    body = json.dumps({"requestedChannelType": "phone", "firstName": "Bench", "lastName": "Load"})
    return [
        {"method": "POST", "path": "/api/line-requests", "headers": bearer(k), "body": body}
        for k in keys
    ]


class LoadGenerator:
    """The load generator's process (`python -m bench.loadgen --serve`), started on first
    use and kept for the whole run; each measurement is one JSON line in, one out."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def run(self, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bench.loadgen", "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(spec) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.close()
            raise TimeoutError(f"the load generator did not answer within {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator exited with {self.proc.wait()}")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.stdin:
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


LOADGEN = LoadGenerator()


def load(
    server: Server,
    requests: list[dict[str, Any]],
    sizes: Sizes,
    *,
    concurrency: int,
    mode: str = "cycle",
    stagger: float = 0.0,
) -> dict[str, Any]:
    """Run the load generator as a separate process against `server`; its JSON result.
    With `stagger`, connections open that many seconds apart (the warmup grows to match)."""
    duration, late = sizes.duration, sizes.late
    warmup = sizes.warmup + stagger * concurrency
    spec = {
        "port": server.port,
        "requests": requests,
        "concurrency": concurrency,
        "duration": duration,
        "warmup": warmup,
        "timeout": late,
        "mode": mode,
        "stagger": stagger,
    }
    result = LOADGEN.run(spec, timeout=warmup + duration + late + LOADGEN_OVERHEAD_S)
    if result["errors"]:
        log(f"  {result['errors']} errors: {result['error_samples'][:1]}")
    return result


def paired(
    sizes: Sizes, targets: list[tuple[Server, list[dict[str, Any]]]]
) -> list[dict[str, Any]]:
    """Latency of targets compared request by request (A B A B ..., one connection each),
    `rounds` times; each target's figures are the medians over rounds."""
    spec = {
        "targets": [{"port": s.port, "requests": r} for s, r in targets],
        "duration": sizes.duration,
        "warmup": sizes.warmup,
    }
    runs: list[list[dict[str, Any]]] = [[] for _ in targets]
    for _ in range(sizes.rounds):
        result = LOADGEN.run(spec, timeout=sizes.warmup + sizes.duration + LOADGEN_OVERHEAD_S)
        for k, r in enumerate(result["targets"]):
            runs[k].append(r)
    return [combine(r) for r in runs]


def alternate(
    rounds: int, measures: dict[str, Callable[[], dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Run every measure once per round, interleaved (A B C A B C …), so that a burst of
    noise from a neighbour hits all of them alike; returns each one's rounds combined."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in measures}
    for r in range(rounds):
        order = list(measures.items())
        if r % 2:
            order.reverse()
        for name, measure in order:
            runs[name].append(measure())
    return {name: combine(results) for name, results in runs.items()}


def combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each figure over rounds; counts summed."""
    if len(results) == 1:
        return {**results[0], "rounds": 1}
    out: dict[str, Any] = {"rounds": len(results)}
    for key in ("rps", "p50_ms", "p90_ms", "p99_ms", "mean_ms", "events_per_s", "seconds"):
        values = [r[key] for r in results if key in r]
        if values:
            out[key] = statistics.median(values)
    for key in ("requests", "errors", "events"):
        if any(key in r for r in results):
            out[key] = sum(r.get(key, 0) for r in results)
    out["spread_rps"] = [round(r["rps"], 1) for r in results if "rps" in r]
    return out


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")
