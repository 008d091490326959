"""Shared pieces of the fault drills: a `tuco serve` that can be SIGKILLed and restarted, the
workspaces a drill loads, and the checks after it (every acknowledged answer in the log with at
least the state told, the invariants, `tuco audit verify`, projections back at the head)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import httpx

from adapters.config import Settings
from api.bootstrap import Services, build
from domain.enums import Channel, Plan
from domain.usage import UsageBatch
from tests.support import log_invariants
from tests.support.mixed_load import MixedLoad, regressions
from tests.support.server import TUCO, free_port, stop_process_group, wait_until_serving

T = TypeVar("T")
INTERNAL_TOKEN = "drill-internal-token"
PLANS = [Plan.GROWTH, Plan.STARTER, Plan.MINI, Plan.GROWTH, Plan.STARTER, Plan.GROWTH]


def eventually(check: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)  # polling a condition with a deadline
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def make_workspaces(database_url: str, prefix: str = "org_drill") -> dict[str, str]:
    """Workspaces of several plans (room for many lines: overrides) and their API keys."""
    setup = build(Settings(database_url=database_url))
    try:
        keys = {}
        for i, plan in enumerate(PLANS):
            ws = f"{prefix}{i}"
            setup.workspaces.create(ws, plan, ws, True)
            if plan is Plan.GROWTH:
                setup.workspaces.set_override(ws, Channel.PHONE, 10_000, None)
                setup.workspaces.set_override(ws, Channel.EMAIL, 10_000, None)
            keys[ws] = setup.keys.create(ws)
        return keys
    finally:
        setup.close()


@dataclass
class KillableServer:
    """`tuco serve` in its own process group; `kill()` sends SIGKILL and `start()` brings a
    new one up (on a new free port). `recoveries`: seconds from each kill to serving again."""

    database_url: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""
    recoveries: list[float] = field(default_factory=list)
    _killed_at: float | None = None

    def start(self) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "TUCO_DATABASE_URL": self.database_url, "TUCO_PUBLIC_URL": url,
               "TUCO_LOG_LEVEL": "WARNING", "TUCO_INTERNAL_TOKEN": INTERNAL_TOKEN,
               **self.env}  # fmt: skip
        self.proc = subprocess.Popen(
            [TUCO, "serve", "--port", str(port)], env=env, start_new_session=True
        )
        wait_until_serving(url, self.proc)
        self.url = url
        if self._killed_at is not None:
            self.recoveries.append(time.monotonic() - self._killed_at)
            self._killed_at = None

    def kill(self) -> None:
        assert self.proc is not None
        self._killed_at = time.monotonic()
        stop_process_group(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_group(self.proc)


@dataclass
class Verdict:
    acknowledged: int
    usage_acknowledged: int
    missing: list[str]
    regressed: list[str]
    violations: list[str]
    events: int


def verify_log(database_url: str, load: MixedLoad) -> Verdict:
    """Every acknowledged answer against the log (folded from the store, not the projections)."""
    checker = build(Settings(database_url=database_url))
    try:
        report = log_invariants.check(checker.app)
        missing, regressed = [], []
        for rid, told in load.told.items():
            req = checker.app.find_request(UUID(rid))
            if req is None:
                missing.append(rid)
                continue
            for wrong in regressions(told, req.state_name, _payment(req)):
                regressed.append(f"{rid}: {wrong}")
        for batch_id in load.usage_acked:
            if not checker.app.history(UsageBatch.create_id(batch_id)):
                missing.append(f"usage batch {batch_id}")
        return Verdict(
            len(load.told), len(load.usage_acked), missing, regressed, report.violations,
            report.events,
        )  # fmt: skip
    finally:
        checker.close()


def _payment(req: Any) -> str:
    status = req.payment_status
    return str(getattr(status, "value", status))


def audit_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TUCO_DATABASE_URL": database_url}
    return subprocess.run(
        [TUCO, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120
    )


def projections_at_head(services: Services) -> bool:
    return all(s.position >= s.head and not s.set_aside for s in services.read_model.status())


def wait_for_health(url: str) -> None:
    eventually(lambda: httpx.get(f"{url}/health", timeout=5).status_code == 200, "health")
