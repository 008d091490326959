"""Overlapping subscriptions (issue 12 point 1): a workspace that moved to a new Stripe
subscription ignores a late `customer.subscription.deleted` of the one it replaced."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.config import Settings, StripeSettings
from api.bootstrap import Services, build
from domain.enums import Plan
from tests.stripe.helpers import API_KEY, SECRET
from tests.support.stripe_emulator import StripeEmulator


@pytest.fixture
def services(
    database_url: str, emu: StripeEmulator, plan_prices: dict[str, str]
) -> Iterator[Services]:
    stripe = StripeSettings(
        api_key=API_KEY,
        webhook_secret=SECRET,
        api_base=emu.base_url,
        plan_prices={price: plan for plan, price in plan_prices.items()},
    )
    s = build(Settings(database_url=database_url, billing="stripe", stripe=stripe))
    try:
        yield s
    finally:
        s.close()


def state(services: Services) -> tuple[Plan, bool, str | None]:
    ws = services.app.workspace("org_overlap")
    return ws.plan, ws.subscription_active, ws.subscription_id


def test_a_late_deletion_of_the_replaced_subscription_changes_nothing(
    services: Services, emu: StripeEmulator, plan_prices: dict[str, str]
) -> None:
    customer = emu.create_customer(name="Overlap", metadata={"workspace_id": "org_overlap"})
    old = emu.create_subscription(customer["id"], plan_prices["starter"])
    services.billing_events.subscription_changed(old["id"])
    assert state(services) == (Plan.STARTER, True, old["id"])

    new = emu.create_subscription(customer["id"], plan_prices["growth"])  # the upgrade
    services.billing_events.subscription_changed(new["id"])
    assert state(services) == (Plan.GROWTH, True, new["id"])

    emu.delete_subscription(old["id"])
    events_before = len(list(services.app.events.get(services.app.workspace("org_overlap").id)))
    services.billing_events.subscription_changed(old["id"])  # the late deleted notice
    assert state(services) == (Plan.GROWTH, True, new["id"])
    events_after = len(list(services.app.events.get(services.app.workspace("org_overlap").id)))
    assert events_after == events_before

    emu.delete_subscription(new["id"])
    services.billing_events.subscription_changed(new["id"])
    assert state(services) == (Plan.GROWTH, False, new["id"])
