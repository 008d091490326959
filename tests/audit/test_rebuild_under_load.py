"""Zero-downtime rebuild: on a store of 100k events, a real `tuco serve` keeps answering
GET /api/lines/by-user with the complete list while `tuco projections rebuild` runs in
another process, and requests written meanwhile are neither lost nor doubled.

The store is generated once per backend (tests/audit/generate.py) and shared by the tests
of this module; each test runs a rebuild of its own against it. These tests run on SQLite
by default: on PostgreSQL they pass too and take about as long, which would double the
time of tests/audit; set TUCO_BIG_BACKENDS=sqlite,postgres to run them on both."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from uuid import uuid4

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from adapters.config import Settings
from api.bootstrap import Services, build
from api.cli import main
from domain.enums import Channel, Plan
from domain.ids import line_request_id
from tests.audit.generate import Generated, events_for, generate
from tests.conftest import BACKENDS, make_tenant
from tests.lines.helpers import wait_for
from tests.support.databases import postgres_url
from tests.support.server import TUCO, running_server

WORKSPACES, LINES_PER_WORKSPACE, ACTIVATE_EVERY = 77, 400, 4
POLLED = 3  # workspaces whose lists are polled throughout, by two clients each
DB_TIMEOUT = Settings.db_timeout  # how long a request may wait for a lock before a 503
BIG_BACKENDS = [b for b in os.environ.get("TUCO_BIG_BACKENDS", "sqlite").split(",") if b]
assert set(BIG_BACKENDS) <= set(BACKENDS), BIG_BACKENDS
RATE = re.compile(r"rebuilt lines up to position (\d+) in ([\d.]+) s \((\d+) events/s\)")


@dataclass
class BigStore:
    url: str
    store: Generated
    seconds: float  # to generate and project it
    polled: dict[str, set[str]]  # API key -> the ids its workspace lists
    writer_key: str  # of a workspace with room for thousands of included lines

    @property
    def backend(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"


@pytest.fixture(scope="module", params=BIG_BACKENDS)
def big(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _postgres_ok: bool
) -> Iterator[BigStore]:
    database: AbstractContextManager[str]
    if request.param == "sqlite":
        database = nullcontext(f"sqlite:///{tmp_path_factory.mktemp('big') / 'tuco.db'}")
    elif _postgres_ok:
        database = postgres_url()
    elif os.environ.get("CI"):
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 under CI")
    else:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    with database as url:
        services = build(Settings(database_url=url))
        try:
            started = time.monotonic()
            store = generate(
                services, WORKSPACES, LINES_PER_WORKSPACE, activate_every=ACTIVATE_EVERY
            )
            seconds = time.monotonic() - started
            assert store.events == events_for(WORKSPACES, LINES_PER_WORKSPACE, ACTIVATE_EVERY)
            polled = {
                services.keys.create(ws): {str(i) for i in store.lines[ws]}
                for ws in store.workspaces[:POLLED]
            }
            services.workspaces.create("org_writer", Plan.GROWTH, "Writer", True)
            services.workspaces.set_override("org_writer", Channel.PHONE, 100_000, 100_000)
            writer_key = services.keys.create("org_writer")
        finally:
            services.close()
        yield BigStore(url, store, seconds, polled, writer_key)


@dataclass
class Timed:
    started: float
    ended: float
    problem: str | None = None


@dataclass
class Clients:
    """API clients running beside the rebuild, and what they saw."""

    base_url: str
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    polls: list[Timed] = field(default_factory=list)
    posts: list[Timed] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self, target: object, *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self.threads.append(t)
        t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)
            assert not t.is_alive()

    def client(self, key: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)

    def poll(self, key: str, expected: set[str]) -> None:
        """GET the list again and again: always 200, always exactly the expected lines."""
        with self.client(key) as c:
            while not self.stop.is_set():
                started, problem = time.monotonic(), None
                try:
                    r = c.get("/api/lines/by-user")
                    if r.status_code != 200:
                        problem = f"GET {r.status_code}: {r.text[:200]}"
                    else:
                        seen = [line["_id"] for line in r.json()["lines"]]
                        if len(seen) != len(expected) or set(seen) != expected:
                            problem = f"GET listed {len(seen)} lines instead of {len(expected)}"
                except httpx.HTTPError as e:
                    problem = f"GET {type(e).__name__}: {e}"
                with self.lock:
                    self.polls.append(Timed(started, time.monotonic(), problem))

    def post(self, c: httpx.Client, key: str | None = None) -> tuple[str | None, Timed]:
        body = {"requestedChannelType": "phone", "firstName": "During", "lastName": "Rebuild"}
        headers = {"Idempotency-Key": key} if key else {}
        started, created, problem = time.monotonic(), None, None
        try:
            r = c.post("/api/line-requests", json=body, headers=headers)
            if r.status_code == 201:
                created = r.json()["line"]["_id"]
            else:
                problem = f"POST {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as e:
            problem = f"POST {type(e).__name__}: {e}"
        timed = Timed(started, time.monotonic(), problem)
        with self.lock:
            self.posts.append(timed)
        return created, timed

    def write(self, key: str) -> None:
        """Create lines one after another, as a careful client does: each with an
        Idempotency-Key, sent again with the same key until it is answered 201. (On SQLite
        a write can meet a 503 during a rebuild, and its replay a 404 until the live read
        model catches up: see the two tests below. Neither may lose or double a line.)"""
        with self.client(key) as c:
            while not self.stop.is_set():
                idempotency_key, deadline = str(uuid4()), time.monotonic() + 120
                created = None
                while created is None and time.monotonic() < deadline:
                    created, _timed = self.post(c, idempotency_key)
                with self.lock:
                    self.created.append(created or f"unanswered {idempotency_key}")

    def write_once_each(self, key: str) -> None:
        """Create lines one after another, without retrying."""
        with self.client(key) as c:
            while not self.stop.is_set():
                created, _timed = self.post(c)
                if created is not None:
                    with self.lock:
                        self.created.append(created)


def listed(base_url: str, key: str) -> list[str]:
    r = httpx.get(
        f"{base_url}/api/lines/by-user", headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    assert r.status_code == 200, r.text
    return [line["_id"] for line in r.json()["lines"]]


@dataclass
class Rebuild:
    started: float
    ended: float
    out: str
    err: str
    position: int
    seconds: float
    rate: int

    def during(self, calls: list[Timed]) -> list[Timed]:
        return [c for c in calls if self.started <= c.started and c.ended <= self.ended]


def rebuild_in_another_process(url: str) -> Rebuild:
    env = {**os.environ, "TUCO_DATABASE_URL": url, "TUCO_LOG_LEVEL": "WARNING"}
    started = time.monotonic()
    done = subprocess.run(
        [TUCO, "projections", "rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    ended = time.monotonic()
    assert done.returncode == 0, done.stderr[-2000:]
    match = RATE.search(done.stdout)
    assert match, done.stdout
    return Rebuild(
        started, ended, done.stdout, done.stderr, int(match[1]), float(match[2]), int(match[3])
    )


def tuco(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    monkeypatch.setenv("TUCO_DATABASE_URL", url)
    monkeypatch.delenv("TUCO_BILLING", raising=False)
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def report(capsys: pytest.CaptureFixture[str], big: BigStore, text: str) -> None:
    with capsys.disabled():
        print(f"\n[{big.backend}, {big.store.events} events] {text}")


@pytest.mark.slow
def test_the_list_is_complete_and_answered_throughout_a_rebuild_of_100k_events(
    big: BigStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_server(big.url, "--no-worker") as base_url:
        clients = Clients(base_url)
        before = len(listed(base_url, big.writer_key))
        for key, expected in big.polled.items():
            assert set(listed(base_url, key)) == expected
            clients.start(clients.poll, key, expected)
            clients.start(clients.poll, key, expected)
        clients.start(clients.write, big.writer_key)
        rebuild = rebuild_in_another_process(big.url)
        clients.join()
        for key, expected in big.polled.items():
            assert set(listed(base_url, key)) == expected
        writer_lines = listed(base_url, big.writer_key)

    during = rebuild.during(clients.polls)
    slowest = max(p.ended - p.started for p in during) if during else 0.0
    report(
        capsys,
        big,
        f"generated in {big.seconds:.1f} s; rebuild in another process: {rebuild.seconds:.1f} s, "
        f"{rebuild.rate} events/s; {len(during)} list polls during it (slowest {slowest:.2f} s); "
        f"{len(clients.created)} requests written meanwhile "
        f"({sum(p.problem is not None for p in clients.posts)} attempts sent again: "
        f"{sorted({p.problem[:60] for p in clients.posts if p.problem})})",
    )
    assert rebuild.position >= big.store.events
    assert [p.problem for p in clients.polls if p.problem] == []
    assert len(during) >= 10, "the polls did not overlap the rebuild"
    assert clients.created, "no request was written during the rebuild"
    assert [c for c in clients.created if c.startswith("unanswered")] == []
    assert len(writer_lines) == len(set(writer_lines)) == before + len(clients.created)
    assert set(clients.created) <= set(writer_lines)

    code, out = tuco(big.url, monkeypatch, capsys, "audit", "verify")
    assert code == 0, out[-2000:]
    requests = WORKSPACES * LINES_PER_WORKSPACE + len(writer_lines)
    assert out.strip().endswith(f"against {requests} read-model rows: 0 mismatches"), out[-500:]
    code, out = tuco(big.url, monkeypatch, capsys, "projections", "status")
    assert code == 0 and [line.split()[-1] for line in out.strip().splitlines()[1:]] == ["0"] * (
        len(out.strip().splitlines()) - 1
    ), out


@pytest.mark.slow
def test_writes_are_accepted_without_stalling_throughout_a_rebuild_of_100k_events(
    big: BigStore, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_server(big.url, "--no-worker") as base_url:
        clients = Clients(base_url)
        clients.start(clients.write_once_each, big.writer_key)
        rebuild = rebuild_in_another_process(big.url)
        clients.join()

    during = rebuild.during(clients.posts)
    slowest = max(p.ended - p.started for p in clients.posts)
    report(
        capsys,
        big,
        f"rebuild: {rebuild.seconds:.1f} s, {rebuild.rate} events/s; {len(clients.posts)} "
        f"POSTs beside it, slowest {slowest:.2f} s",
    )
    assert len(during) >= 3, "the writes did not overlap the rebuild"
    assert [p.problem for p in clients.posts if p.problem] == []
    assert slowest < DB_TIMEOUT, f"a write waited {slowest:.1f} s during the rebuild"


def test_a_write_answers_201_while_the_projection_cannot_advance(
    services: Services, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the writer above used to run into on SQLite: the live projection could not be
    caught up in time (the rebuild held the write lock), and the POST answered 503. The read
    side is no longer in the write path: the command answers from what it committed, and the
    list shows the request once the projection can advance again."""
    tenant = make_tenant(services, "org_retry", Plan.GROWTH)
    catch_up = services.runner.catch_up
    refusals: list[int | None] = []

    def locked(position: int | None = None) -> int:
        refusals.append(position)
        raise OperationalError("catch up", {}, Exception("database is locked"))

    monkeypatch.setattr(services.runner, "catch_up", locked)
    headers = {**tenant.headers, "Idempotency-Key": "retry-1"}
    body = {"requestedChannelType": "phone", "firstName": "Ada", "lastName": "Lovelace"}
    first = client.post("/api/line-requests", json=body, headers=headers)
    assert first.status_code == 201, first.text
    recorded = str(line_request_id("org_retry", "retry-1"))
    assert first.json()["line"]["_id"] == recorded
    got = client.get(f"/api/line-requests/{recorded}", headers=tenant.headers)
    assert got.status_code == 200 and got.json()["status"] == "provisioning"
    wait_for(lambda: refusals, timeout=5, what="the follower trying the projection")

    monkeypatch.setattr(services.runner, "catch_up", catch_up)
    again = client.post("/api/line-requests", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["line"]["_id"] == recorded
    listed = client.get("/api/lines/by-user", headers=tenant.headers).json()["lines"]
    assert [line["_id"] for line in listed] == [recorded]
