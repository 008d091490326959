"""Base-plan subscriptions read from Stripe."""

from __future__ import annotations

import stripe

from adapters.stripe_billing import stripe_errors
from application.ports import SubscriptionInfo, Subscriptions

ACTIVE_STATUSES = frozenset({"active", "trialing"})


class StripeSubscriptions(Subscriptions):
    """The plan comes from the subscription's price id (TUCO_STRIPE_PLAN_PRICES), the
    workspace from the customer's `metadata.workspace_id`."""

    def __init__(self, client: stripe.StripeClient, plan_prices: dict[str, str]) -> None:
        self.client = client
        self.plan_prices = plan_prices

    def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        with stripe_errors():
            sub = self.client.v1.subscriptions.retrieve(subscription_id)
            customer_id = sub.customer if isinstance(sub.customer, str) else sub.customer.id
            customer = self.client.v1.customers.retrieve(customer_id)
        metadata = dict(getattr(customer, "metadata", None) or {})
        prices = [item.price.id for item in sub["items"].data if item.price]
        plan = next((self.plan_prices[p] for p in prices if p in self.plan_prices), None)
        return SubscriptionInfo(
            subscription_id=subscription_id,
            workspace_id=metadata.get("workspace_id"),
            plan=plan,
            active=sub.status in ACTIVE_STATUSES,
        )
