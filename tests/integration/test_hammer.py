"""Concurrency proof on PostgreSQL: `tuco serve --workers 4`, 32 client threads, 8 workspaces
of every plan, requests, payments and cancels for TUCO_HAMMER_SECONDS (default 30); then the
SPEC invariants are checked from the event log."""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import httpx
import pytest

from adapters.config import Settings
from api.bootstrap import build
from domain.enums import Channel, Plan
from tests.support import log_invariants
from tests.support.databases import postgres_url
from tests.support.server import running_server

UUID_IN_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SECONDS = float(os.environ.get("TUCO_HAMMER_SECONDS", "30"))
THREADS = 32
PLANS = [
    Plan.MINI,
    Plan.STARTER,
    Plan.GROWTH,
    Plan.GROWTH,
    Plan.MINI,
    Plan.STARTER,
    Plan.GROWTH,
    Plan.STARTER,
]


class Hammer:
    def __init__(self, base_url: str, keys: list[str]) -> None:
        self.base_url = base_url
        self.keys = keys
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.created: set[str] = set()
        self.canceled: set[str] = set()
        self.paid_invoices: set[str] = set()
        self.deadline = time.monotonic() + SECONDS

    def record(self, r: httpx.Response) -> None:
        with self.lock:
            self.statuses[r.status_code] += 1

    def run(self, seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=self.base_url, timeout=30) as c:
            while time.monotonic() < self.deadline:
                h = {"Authorization": f"Bearer {rnd.choice(self.keys)}"}
                channel = rnd.choice(["phone", "email"])
                body = {
                    "requestedChannelType": channel,
                    "firstName": "H",
                    "lastName": "M",
                    "email": f"h{rnd.randrange(10**6)}@example.com",
                }
                r = c.post("/api/line-requests", json=body, headers=h)
                self.record(r)
                if r.status_code == 201:
                    with self.lock:
                        self.created.add(r.json()["line"]["_id"])
                    pending = r.json()["line"] if r.json()["status"] == "awaiting_payment" else None
                elif r.status_code == 409 and r.json()["error"]["code"] == "payment_pending":
                    pending_id = UUID_IN_TEXT.search(r.json()["error"]["message"])
                    assert pending_id is not None, "payment_pending names the pending request"
                    got = c.get(f"/api/line-requests/{pending_id.group()}", headers=h)
                    self.record(got)
                    pending = got.json()["line"] if got.status_code == 200 else None
                else:
                    continue
                if pending is not None:
                    self.settle(c, h, pending, rnd)

    def settle(
        self, c: httpx.Client, h: dict[str, str], line: dict[str, str], rnd: random.Random
    ) -> None:
        if rnd.random() < 0.5:
            r = c.post(f"/api/line-requests/{line['_id']}", json={"action": "cancel"}, headers=h)
            self.record(r)
            if r.status_code == 200:
                with self.lock:
                    self.canceled.add(line["_id"])
        elif line["stripeInvoiceId"]:
            r = c.post(f"/sandbox/invoices/{line['stripeInvoiceId']}/pay")
            self.record(r)
            if r.status_code == 200 and r.json()["status"] == "paid":
                with self.lock:
                    self.paid_invoices.add(line["stripeInvoiceId"])


@pytest.mark.slow
def test_four_server_processes_under_load_keep_every_invariant() -> None:
    with postgres_url() as url:
        setup = build(Settings(database_url=url))
        keys = []
        for i, plan in enumerate(PLANS):
            setup.workspaces.create(f"org_h{i}", plan, f"H{i}", True)
            keys.append(setup.keys.create(f"org_h{i}"))
        setup.workspaces.set_override("org_h1", Channel.PHONE, 2, 5)
        setup.close()
        env = {"TUCO_SANDBOX_PROVISION_SECONDS": "0.5", "TUCO_DB_POOL_SIZE": "10"}
        with running_server(url, "--workers", "4", env=env) as base_url:
            hammer = Hammer(base_url, keys)
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(hammer.run, range(THREADS)))

        checker = build(Settings(database_url=url))
        try:
            report = log_invariants.check(checker.app)
            missing = [i for i in hammer.created if checker.app.find_request(UUID(i)) is None]
            names = Counter(
                type(e).__name__ for r in report.request_ids for e in checker.app.history(r)
            )
        finally:
            checker.close()

    total = sum(hammer.statuses.values())
    print(
        f"hammer: {total} responses in {SECONDS:.0f} s ({total / SECONDS:.0f}/s), "
        f"{dict(hammer.statuses)}; {report.events} events, {report.requests} requests"
    )
    assert [s for s in hammer.statuses if s >= 500] == []
    assert report.violations == []
    assert missing == []
    # Invariant 7: refused commands recorded nothing.
    assert report.requests == len(hammer.created)
    assert names["Canceled"] == len(hammer.canceled)
    assert names["Paid"] == len(hammer.paid_invoices)
