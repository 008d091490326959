"""Fixtures for the Stripe integration tests: the Stripe emulator, a real `tuco serve` with
TUCO_BILLING=stripe pointed at it (webhooks included), and in-process services on the same
database for setting up workspaces and reading the event log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.stripe.helpers import API_KEY, SECRET, ServeFn, Tuco, start_tuco
from tests.support.stripe_emulator import StripeEmulator


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    with StripeEmulator(webhook_secret=SECRET, api_key=API_KEY) as emulator:
        yield emulator


@pytest.fixture
def plan_prices(emu: StripeEmulator) -> dict[str, str]:
    """A monthly Stripe price per base plan: plan name → price id."""
    amounts = {"mini": 900, "starter": 2900, "growth": 9900}
    return {
        plan: emu.create_price(amount, nickname=plan, product_name=f"Tuco {plan}")["id"]
        for plan, amount in amounts.items()
    }


@pytest.fixture
def serve(database_url: str, emu: StripeEmulator, plan_prices: dict[str, str]) -> Iterator[ServeFn]:
    """Start a `tuco serve` on Stripe billing: `serve(*cli_args, **env_overrides)`. Every
    server started is stopped at the end of the test."""
    with ExitStack() as stack:

        def start(*args: str, **env: str) -> Tuco:
            return stack.enter_context(start_tuco(database_url, emu, plan_prices, *args, **env))

        yield start


@pytest.fixture
def tuco(serve: ServeFn) -> Tuco:
    """The default server: webhooks drive payments (reconciliation only hourly), sandbox
    provisioning activates a paid line on the worker's next pass."""
    return serve()
