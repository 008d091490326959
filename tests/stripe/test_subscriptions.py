"""Base-plan subscriptions at Stripe set the workspace's plan (price id → plan through
TUCO_STRIPE_PLAN_PRICES) and subscription status; the workspace is the one the customer's
`metadata.workspace_id` names, created if it does not exist yet (SPEC §2, §4 webhooks)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.enums import Plan
from tests.stripe.helpers import Tuco, email_body, stripe_invoice


def subscribe(tuco: Tuco, workspace_id: str, price_id: str) -> dict[str, Any]:
    """A Stripe customer for the workspace, subscribed to a plan's price."""
    customer = tuco.emu.create_customer(metadata={"workspace_id": workspace_id})
    return tuco.emu.create_subscription(customer["id"], price_id)


def test_a_subscription_for_a_workspace_that_does_not_exist_yet_creates_it_with_its_plan(
    tuco: Tuco, plan_prices: dict[str, str]
) -> None:
    subscribe(tuco, "org_signup", plan_prices["growth"])
    assert tuco.plan_of("org_signup") == (Plan.GROWTH, True)
    ws = tuco.client_for("org_signup")
    phone = ws.request_line({"requestedChannelType": "phone", "firstName": "A", "lastName": "B"})
    assert phone.status_code == 201, phone.text
    assert phone.json()["status"] == "provisioning"  # growth includes two phone lines


def test_a_subscription_moved_to_another_price_changes_the_workspace_plan(
    tuco: Tuco, plan_prices: dict[str, str]
) -> None:
    tuco.workspace("org_upgrade", Plan.MINI)
    sub = subscribe(tuco, "org_upgrade", plan_prices["starter"])
    assert tuco.plan_of("org_upgrade") == (Plan.STARTER, True)
    tuco.emu.update_subscription(sub["id"], price_id=plan_prices["growth"])
    assert tuco.plan_of("org_upgrade") == (Plan.GROWTH, True)


def test_a_deleted_subscription_makes_new_line_requests_answer_402_subscription_required(
    tuco: Tuco, plan_prices: dict[str, str]
) -> None:
    ws = tuco.workspace("org_leaving")
    sub = subscribe(tuco, "org_leaving", plan_prices["starter"])
    tuco.emu.delete_subscription(sub["id"])
    assert tuco.plan_of("org_leaving") == (Plan.STARTER, False)
    r = ws.request_line()
    assert r.status_code == 402, r.text
    assert r.json()["error"]["code"] == "subscription_required"


def test_a_subscription_gone_past_due_and_back_to_active_follows_the_workspace_status(
    tuco: Tuco, plan_prices: dict[str, str]
) -> None:
    sub = subscribe(tuco, "org_past_due", plan_prices["mini"])
    tuco.emu.update_subscription(sub["id"], status="past_due")
    assert tuco.plan_of("org_past_due") == (Plan.MINI, False)
    tuco.emu.update_subscription(sub["id"], status="active")
    assert tuco.plan_of("org_past_due") == (Plan.MINI, True)


FINAL_STATES = {"upgrade": (Plan.GROWTH, True), "delete": (Plan.STARTER, False)}


@pytest.mark.parametrize("last_change", FINAL_STATES)
def test_subscription_events_delivered_out_of_order_end_in_the_final_state(
    tuco: Tuco, plan_prices: dict[str, str], last_change: str
) -> None:
    tuco.emu.auto_deliver = False
    sub = subscribe(tuco, "org_unordered", plan_prices["starter"])
    if last_change == "upgrade":
        tuco.emu.update_subscription(sub["id"], price_id=plan_prices["growth"])
    else:
        tuco.emu.delete_subscription(sub["id"])
    created, changed = tuco.emu.pending_events()
    assert created["type"] == "customer.subscription.created"

    assert tuco.emu.deliver([changed, created]) == [200, 200]

    assert tuco.plan_of("org_unordered") == FINAL_STATES[last_change]


def test_add_ons_of_a_workspace_that_subscribed_at_stripe_are_billed_to_its_stripe_customer(
    tuco: Tuco, plan_prices: dict[str, str]
) -> None:
    sub = subscribe(tuco, "org_one_customer", plan_prices["starter"])
    ws = tuco.client_for("org_one_customer")
    posted = ws.add_on(email_body())
    invoice = stripe_invoice(tuco.emu, posted["line"]["stripeInvoiceId"])
    assert invoice["customer"] == sub["customer"]
    assert len(tuco.emu.objects("customer")) == 1
