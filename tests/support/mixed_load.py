"""Mixed load for the drills and the soak: client threads that request lines, pay for add-ons
(sandbox pay), cancel, read back and report usage, and remember every acknowledged answer
(the strongest state each client was told), so that a drill can check the log against it."""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

UUID_IN_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TERMINAL = {"active", "failed", "canceled"}
RANK = {"awaiting_payment": 0, "provisioning": 1, "active": 2, "failed": 2, "canceled": 2}
PAID = {"paid", "refunded"}


@dataclass
class Told:
    """The strongest state and payment status one request was acknowledged with."""

    workspace_id: str
    state: str
    paid: bool = False

    def merge(self, state: str, payment: str) -> None:
        if RANK[state] > RANK[self.state]:
            self.state = state
        self.paid = self.paid or payment in PAID


def regressions(told: Told, state: str, payment: str) -> list[str]:
    """How the log's final state falls short of what a client was told."""
    wrong = []
    if RANK[state] < RANK[told.state] or (told.state in TERMINAL and state != told.state):
        wrong.append(f"told {told.state}, log says {state}")
    if told.paid and payment not in PAID:
        wrong.append(f"told paid, log says {payment}")
    return wrong


@dataclass
class LoadStats:
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    last_transport_error: str = ""
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (at, seconds)
    server_errors: list[str] = field(default_factory=list)


class MixedLoad:
    """`base_url()` is asked before every call (a drill restarts the server on a new port).
    `keys`: workspace id → API key. `usage_token`: the internal service token.
    `list_limit`: list a page of this many lines, as a dashboard does, instead of the whole
    workspace (the SPEC's unpaged answer, which grows with the workspace)."""

    def __init__(
        self,
        base_url: Callable[[], str],
        keys: dict[str, str],
        usage_token: str,
        record_latency: bool = False,
        list_limit: int | None = None,
    ) -> None:
        self.base_url = base_url
        self.keys = keys
        self.usage_token = usage_token
        self.record_latency = record_latency
        self.list_path = "/api/lines/by-user" + (f"?limit={list_limit}" if list_limit else "")
        self.lock = threading.Lock()
        self.told: dict[str, Told] = {}
        self.usage_acked: set[str] = set()
        self.active: dict[str, list[str]] = {ws: [] for ws in keys}
        self.recent: dict[str, deque[str]] = {ws: deque(maxlen=20) for ws in keys}
        # Requests last told in a state that is not final: reading them back is how a
        # client learns that a line became active (then usage can be reported for it). The
        # recent ones alone are all new under steady POSTs, so no line was ever seen active.
        self.unsettled: dict[str, dict[str, None]] = {ws: {} for ws in keys}
        self.stats = LoadStats()

    # -- bookkeeping -------------------------------------------------------------------------

    def _call(self, c: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response | None:
        started = time.monotonic()
        try:
            r = c.request(method, self.base_url() + path, **kw)
        except httpx.TransportError as e:
            with self.lock:
                self.stats.transport_errors += 1
                self.stats.last_transport_error = repr(e)
            time.sleep(0.05)  # the server is down (a drill): back off before the next call
            return None
        with self.lock:
            self.stats.statuses[r.status_code] += 1
            if self.record_latency:
                self.stats.latencies.append((started, time.monotonic() - started))
            if r.status_code >= 500:
                self.stats.server_errors.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
        return r

    def _acknowledge(self, ws: str, answer: dict[str, Any]) -> None:
        line = answer["line"]
        with self.lock:
            told = self.told.get(line["_id"])
            if told is None:
                told = self.told[line["_id"]] = Told(ws, answer["status"])
                self.recent[ws].append(line["_id"])
            told.merge(answer["status"], line["paymentStatus"])
            unsettled = self.unsettled[ws]
            if answer["status"] in TERMINAL:
                unsettled.pop(line["_id"], None)
            elif len(unsettled) < 200:
                unsettled[line["_id"]] = None
            lines = self.active[ws]
            if answer["status"] == "active" and len(lines) < 50 and line["_id"] not in lines:
                lines.append(line["_id"])

    # -- the client loop ---------------------------------------------------------------------

    def run(self, seed: int, stop: threading.Event) -> None:
        rnd = random.Random(seed)
        with httpx.Client(timeout=30) as c:
            while not stop.is_set():
                ws = rnd.choice(list(self.keys))
                h = {"Authorization": f"Bearer {self.keys[ws]}"}
                roll = rnd.random()
                if roll < 0.15:
                    self._usage(c, ws, rnd)
                elif roll < 0.35:
                    self._read_back(c, ws, h, rnd)
                else:
                    self._request(c, ws, h, rnd)

    def _request(self, c: httpx.Client, ws: str, h: dict[str, str], rnd: random.Random) -> None:
        body = {
            "requestedChannelType": rnd.choice(["phone", "email"]),
            "firstName": "Load",
            "lastName": "Client",
            "email": f"l{rnd.randrange(10**6)}@example.com",
        }
        headers = h | {"Idempotency-Key": str(uuid.UUID(int=rnd.getrandbits(128)))}
        r = self._call(c, "POST", "/api/line-requests", json=body, headers=headers)
        if r is None:
            return
        pending: dict[str, Any] | None = None
        if r.status_code == 201:
            self._acknowledge(ws, r.json())
            pending = r.json() if r.json()["status"] == "awaiting_payment" else None
        elif r.status_code == 409 and r.json()["error"]["code"] == "payment_pending":
            error = r.json()["error"]
            found = error.get("requestId") or UUID_IN_TEXT.search(error["message"])
            rid = found if isinstance(found, str) else found.group() if found else None
            got = self._call(c, "GET", f"/api/line-requests/{rid}", headers=h) if rid else None
            if got is not None and got.status_code == 200:
                self._acknowledge(ws, got.json())
                pending = got.json() if got.json()["status"] == "awaiting_payment" else None
        if pending is not None:
            self._settle(c, ws, h, pending["line"], rnd)

    def _settle(
        self, c: httpx.Client, ws: str, h: dict[str, str], line: dict[str, Any], rnd: random.Random
    ) -> None:
        if rnd.random() < 0.4:
            path = f"/api/line-requests/{line['_id']}"
            r = self._call(c, "POST", path, json={"action": "cancel"}, headers=h)
            if r is not None and r.status_code == 200:
                self._acknowledge(ws, r.json())
        elif line["stripeInvoiceId"]:
            r = self._call(c, "POST", f"/sandbox/invoices/{line['stripeInvoiceId']}/pay")
            if r is not None and r.status_code == 200 and r.json()["status"] == "paid":
                with self.lock:  # the payment was acknowledged: the request must show it
                    self.told[line["_id"]].paid = True

    def _read_back(self, c: httpx.Client, ws: str, h: dict[str, str], rnd: random.Random) -> None:
        with self.lock:
            unsettled = list(self.unsettled[ws])
            mine = unsettled if unsettled and rnd.random() < 0.5 else list(self.recent[ws])
        if rnd.random() < 0.3 or not mine:
            self._call(c, "GET", self.list_path, headers=h)
            return
        r = self._call(c, "GET", f"/api/line-requests/{rnd.choice(mine)}", headers=h)
        if r is not None and r.status_code == 200:
            self._acknowledge(ws, r.json())

    def _usage(self, c: httpx.Client, ws: str, rnd: random.Random) -> None:
        with self.lock:
            lines = list(self.active[ws])
        if not lines:
            return
        batch_id = f"load-{uuid.UUID(int=rnd.getrandbits(128))}"
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        items = [
            {"lineId": rnd.choice(lines), "timestamp": now,
             "newConversation": rnd.random() < 0.3, "messages": rnd.randint(1, 3)}
            for _ in range(rnd.randint(1, 5))
        ]  # fmt: skip
        headers = {"Authorization": f"Bearer {self.usage_token}"}
        body = {"batchId": batch_id, "items": items}
        r = self._call(c, "POST", "/internal/usage", json=body, headers=headers)
        if r is not None and r.status_code == 200:
            with self.lock:
                self.usage_acked.add(batch_id)
