"""A real `tuco serve` at DEBUG, on Stripe billing (the emulator) and PostgreSQL with a
password in its URL, taken through a paid add-on, a cancel, usage, forged webhooks and bad
credentials: its whole output holds none of the secrets, and does hold the start-up line, the
request lines and the application events."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from adapters.config import Settings
from api.bootstrap import build
from domain.enums import Plan
from tests.stripe.helpers import email_body, stripe_env
from tests.support.databases import postgres_available, postgres_url
from tests.support.server import server_process
from tests.support.stripe_emulator import StripeEmulator

pytestmark = pytest.mark.slow


@pytest.fixture
def pg_url_with_password() -> Iterator[tuple[str, str]]:
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 under CI")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    password = "pgpw" + secrets.token_hex(8)
    with postgres_url() as url:  # trust auth: the server ignores the password
        yield url.replace("://postgres@", f"://postgres:{password}@", 1), password


def records(log: Path) -> list[dict[str, object]]:
    text = log.read_text(errors="replace")
    return [orjson.loads(x) for x in text.splitlines() if x.startswith("{")]


def wait_for_log(log: Path, *needles: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(n in log.read_text(errors="replace") for n in needles):
        if time.monotonic() > deadline:
            raise AssertionError(f"the server's log never had all of {needles}")
        time.sleep(0.05)  # polling a condition with a deadline


def test_a_debug_log_of_a_whole_flow_holds_no_secret(
    tmp_path: Path, pg_url_with_password: tuple[str, str]
) -> None:
    database_url, db_password = pg_url_with_password
    stripe_key = "sk_test_" + secrets.token_hex(12)
    webhook_secret = "whsec_" + secrets.token_hex(12)
    internal_token = "svc-" + secrets.token_hex(12)
    log = tmp_path / "server.log"
    with (
        StripeEmulator(webhook_secret=webhook_secret, api_key=stripe_key) as emu,
        log.open("wb") as output,
    ):
        env = stripe_env(emu, {}) | {
            "STRIPE_API_KEY": stripe_key,
            "STRIPE_WEBHOOK_SECRET": webhook_secret,
            "TUCO_INTERNAL_TOKEN": internal_token,
            "TUCO_LOG_LEVEL": "DEBUG",
        }
        with server_process(database_url, env=env, output=output) as (base_url, _):
            emu.webhook_url = f"{base_url}/api/webhooks/stripe"
            services = build(Settings.from_env(env | {"TUCO_DATABASE_URL": database_url}))
            try:
                services.workspaces.create("acme", Plan.STARTER, "Acme", True)
                api_key = services.keys.create("acme")
            finally:
                services.close()
            auth = {"Authorization": f"Bearer {api_key}"}
            with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as http:
                paid = http.post("/api/line-requests", json=email_body("Ann"), headers=auth)
                assert paid.status_code == 201, paid.text
                line_id = paid.json()["line"]["_id"]
                emu.pay_invoice(paid.json()["line"]["stripeInvoiceId"])
                wait_for_log(log, '"line request activated"', '"webhook received"')
                other = http.post("/api/line-requests", json=email_body("Bob"), headers=auth)
                other_id = other.json()["line"]["_id"]
                canceled = http.post(
                    f"/api/line-requests/{other_id}", json={"action": "cancel"}, headers=auth
                )
                assert canceled.status_code == 200, canceled.text
                usage = http.post(
                    "/internal/usage",
                    headers={"Authorization": f"Bearer {internal_token}"},
                    json={"batchId": "b-1", "items": [{"lineId": line_id,
                          "timestamp": "2026-11-29T10:00:00Z", "messages": 2}]},
                )  # fmt: skip
                assert usage.status_code == 200, usage.text
                for wrong in [internal_token, stripe_key, webhook_secret, api_key[:-2] + "xx"]:
                    r = http.get("/api/lines/by-user", headers={"Authorization": f"Bearer {wrong}"})
                    assert r.status_code == 401
                forged = http.post(
                    "/api/webhooks/stripe", content=b"{}",
                    headers={"Stripe-Signature": f"t=1,v1={webhook_secret}"},
                )  # fmt: skip
                assert forged.status_code == 400
                wait_for_log(log, '"line request canceled"', '"/internal/usage"')

    text = log.read_text(errors="replace")
    for name, secret in [("API key", api_key), ("Stripe key", stripe_key),
                         ("webhook secret", webhook_secret), ("internal token", internal_token),
                         ("database password", db_password)]:  # fmt: skip
        assert secret not in text, f"the {name} is in the server's log"
    assert api_key[:-2] not in text  # nor most of the key
    lines = records(log)
    assert any(x.get("level") == "debug" for x in lines)  # DEBUG was really on
    (start,) = [x for x in lines if x.get("event") == "tuco started"]
    assert start["billing"] == "stripe" and start["worker"] == "on"
    assert start["provisioner"] and start["version"]
    assert str(start["database"]).startswith("postgresql+psycopg://postgres:")
    requests = [x for x in lines if x.get("logger") == "tuco.access"]
    assert {"/api/line-requests", "/api/webhooks/stripe", "/internal/usage"} <= {
        str(x["route"]) for x in requests
    }
    assert all(len(str(x["request_id"])) == 16 for x in requests)
    assert {x["workspace"] for x in requests if x["route"] == "/api/line-requests"} == {"acme"}
    events = {x.get("event_type") for x in lines if x.get("logger") == "tuco.events"}
    assert {"requested", "invoiced", "paid", "provisioning", "activated", "canceled"} <= events
    assert not [x for x in lines if x.get("logger") == "uvicorn.access"]  # replaced
