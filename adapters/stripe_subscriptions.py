"""Base-plan subscriptions read from Stripe."""

from __future__ import annotations

import stripe
from sqlalchemy import Engine

from adapters.stripe_billing import metadata_of, remember_customer, stripe_errors
from application.ports import SubscriptionInfo, Subscriptions

ACTIVE_STATUSES = frozenset({"active", "trialing"})


class StripeSubscriptions(Subscriptions):
    """The plan comes from the subscription's price id (TUCO_STRIPE_PLAN_PRICES), the
    workspace from the customer's `metadata.workspace_id`."""

    def __init__(
        self, client: stripe.StripeClient, plan_prices: dict[str, str], engine: Engine
    ) -> None:
        self.client = client
        self.plan_prices = plan_prices
        self.engine = engine

    def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        with stripe_errors():
            sub = self.client.v1.subscriptions.retrieve(subscription_id)
            customer_id = sub.customer if isinstance(sub.customer, str) else sub.customer.id
            customer = self.client.v1.customers.retrieve(customer_id)
        workspace_id = metadata_of(customer).get("workspace_id")
        if workspace_id:
            # Add-ons of this workspace are billed to the customer that pays its plan.
            remember_customer(self.engine, workspace_id, customer_id)
        prices = [item.price.id for item in sub["items"].data if item.price]
        plan = next((self.plan_prices[p] for p in prices if p in self.plan_prices), None)
        return SubscriptionInfo(
            subscription_id=subscription_id,
            workspace_id=workspace_id,
            plan=plan,
            active=sub.status in ACTIVE_STATUSES,
            created=int(sub.created or 0),
        )
