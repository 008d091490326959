"""Helpers for the Stripe integration tests: a running `tuco serve` on Stripe billing, one
workspace's API client over real HTTP, polling with a deadline, and readings of the event log
and of the emulator's objects."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import httpx
from sqlalchemy import select

from adapters.config import Settings
from adapters.schema import processed_webhooks
from api.bootstrap import Services, build
from domain.enums import Plan
from tests.support.server import TUCO, server_process
from tests.support.stripe_emulator import StripeEmulator

SECRET = "whsec_test"
API_KEY = "sk_test_emulator"
T = TypeVar("T")
ServeFn = Callable[..., "Tuco"]  # the `serve` fixture: serve(*cli_args, **env_overrides)


def eventually(check: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)  # polling a condition with a deadline, not waiting for a state
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stripe_env(
    emu: StripeEmulator, plan_prices: dict[str, str], **overrides: str
) -> dict[str, str]:
    """The environment of a Stripe-billed `tuco serve`, as SPEC §5 documents it."""
    env = {
        "TUCO_BILLING": "stripe",
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "TUCO_STRIPE_API_BASE": emu.base_url,
        "TUCO_STRIPE_PLAN_PRICES": ",".join(f"{plan}={p}" for plan, p in plan_prices.items()),
        # Production start-up needs these named (SPEC §7); the sandbox provisioner on purpose
        # here, these tests are about billing.
        "TUCO_PROVISIONER": "sandbox",
        "TUCO_INTERNAL_TOKEN": "internal-token-for-stripe-tests",
        "TUCO_SANDBOX_PROVISION_SECONDS": "0",
        "TUCO_RECONCILE_SECONDS": "3600",
        "TUCO_WORKER_INTERVAL": "0.1",
    }
    return env | overrides


def email_body(name: str = "Grace") -> dict[str, Any]:
    return {
        "requestedChannelType": "email",
        "firstName": name,
        "lastName": "Hopper",
        "email": f"{name.lower()}@example.com",
    }


@dataclass
class Workspace:
    """One workspace's API client, over real HTTP with its API key."""

    workspace_id: str
    http: httpx.Client

    def request_line(self, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post("/api/line-requests", json=body or email_body())

    def add_on(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Request a paid add-on; its 201 answer (awaiting payment, with the invoice)."""
        r = self.request_line(body)
        assert r.status_code == 201, r.text
        answer: dict[str, Any] = r.json()
        assert answer["status"] == "awaiting_payment", answer
        assert answer["line"]["stripeInvoiceId"], answer
        return answer

    def get(self, request_id: str) -> dict[str, Any]:
        r = self.http.get(f"/api/line-requests/{request_id}")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def act(self, request_id: str, action: str) -> httpx.Response:
        return self.http.post(f"/api/line-requests/{request_id}", json={"action": action})

    def wait_for(self, request_id: str, status: str, timeout: float = 20.0) -> dict[str, Any]:
        """Poll GET until the request reaches `status`; its answer then."""
        seen: list[str] = []

        def reached() -> dict[str, Any] | None:
            got = self.get(request_id)
            seen.append(got["status"])
            return got if got["status"] == status else None

        try:
            return eventually(reached, f"request {request_id} to be {status}", timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}; it was {seen[-1] if seen else None}") from None

    def wait_for_line(
        self, request_id: str, timeout: float = 20.0, **fields: Any
    ) -> dict[str, Any]:
        """Poll GET until the LINE object has these field values; the LINE then."""
        seen: list[dict[str, Any]] = []

        def matches() -> dict[str, Any] | None:
            line: dict[str, Any] = self.get(request_id)["line"]
            seen.append({k: line[k] for k in fields} | {"status": line["provisioningStatus"]})
            return line if all(line[k] == v for k, v in fields.items()) else None

        try:
            return eventually(matches, f"line {request_id} to have {fields}", timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}; it had {seen[-1] if seen else None}") from None


@dataclass
class Tuco:
    """A running `tuco serve` on Stripe billing, and in-process services on its database."""

    base_url: str
    emu: StripeEmulator
    services: Services
    env: dict[str, str]
    workspaces: list[Workspace] = field(default_factory=list)

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/api/webhooks/stripe"

    def workspace(
        self, workspace_id: str, plan: Plan = Plan.STARTER, active: bool = True
    ) -> Workspace:
        """Create a workspace (starter: every email line is a paid add-on) and its client."""
        self.services.workspaces.create(workspace_id, plan, workspace_id, active)
        return self.client_for(workspace_id)

    def client_for(self, workspace_id: str) -> Workspace:
        key = self.services.keys.create(workspace_id)
        http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
            trust_env=False,
        )
        ws = Workspace(workspace_id, http)
        self.workspaces.append(ws)
        return ws

    def post_webhook(self, payload: bytes, signature: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        return httpx.post(
            self.webhook_url, content=payload, headers=headers, timeout=30, trust_env=False
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `tuco …` on the same database and Stripe settings as the server."""
        return subprocess.run(
            [TUCO, *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def event_types(self, request_id: str) -> list[str]:
        """The request's stored events, oldest first, from the event log."""
        return [type(e).__name__ for e in self.services.app.history(UUID(request_id))]

    def event_counts(self, request_id: str) -> Counter[str]:
        return Counter(self.event_types(request_id))

    def events_of(self, request_id: str, kind: str) -> list[Any]:
        return [e for e in self.services.app.history(UUID(request_id)) if type(e).__name__ == kind]

    def handled_webhook_ids(self) -> set[str]:
        """Event ids the webhook endpoint recorded as handled."""
        with self.services.database.read_engine.connect() as conn:
            return set(conn.execute(select(processed_webhooks.c.event_id)).scalars())

    def plan_of(self, workspace_id: str) -> tuple[Plan, bool] | None:
        """The workspace's plan and subscription status, from its events; None if absent."""
        ws = self.services.app.find_workspace(workspace_id)
        return None if ws is None else (ws.plan, ws.subscription_active)


@contextmanager
def start_tuco(
    database_url: str,
    emu: StripeEmulator,
    plan_prices: dict[str, str],
    *args: str,
    **overrides: str,
) -> Iterator[Tuco]:
    """`tuco serve` with TUCO_BILLING=stripe against the emulator, Stripe's webhooks pointed at
    it; plus in-process services (built after the server upgraded the schema)."""
    env = stripe_env(emu, plan_prices, **overrides)
    with server_process(database_url, *args, env=env) as (base_url, _):
        full_env = env | {"TUCO_DATABASE_URL": database_url, "TUCO_PUBLIC_URL": base_url}
        services = build(Settings.from_env(full_env))
        tuco = Tuco(base_url, emu, services, full_env)
        emu.webhook_url = tuco.webhook_url
        try:
            yield tuco
        finally:
            for ws in tuco.workspaces:
                ws.http.close()
            services.close()


# -- the emulator's side -------------------------------------------------------------------------


def stripe_invoice(emu: StripeEmulator, invoice_id: str) -> dict[str, Any]:
    return emu.objects("invoice")[invoice_id]


def refunds_for_invoice(emu: StripeEmulator, invoice_id: str) -> list[dict[str, Any]]:
    """Refund objects at Stripe against the payment of this invoice."""
    intents = {
        p["payment"].get("payment_intent")
        for p in emu.objects("invoice_payment").values()
        if p["invoice"] == invoice_id
    }
    return [r for r in emu.objects("refund").values() if r["payment_intent"] in intents]


def creating_calls(emu: StripeEmulator) -> list[dict[str, Any]]:
    """Every POST the service made to Stripe's API (from the emulator's request log)."""
    return [r for r in emu.requests if r["method"] == "POST"]
