"""What the billing provider tells us (webhooks, the sandbox pay page): each notice is only
a trigger; the invoice or subscription is re-read before anything is recorded, so duplicate,
late or out-of-order notices cannot move a request backwards or act twice."""

from __future__ import annotations

import contextlib
import logging

from application.app import LinesApp
from application.ports import Billing, Subscriptions
from application.settlement import Settlement
from application.workspaces import Workspaces
from domain.enums import Plan
from domain.errors import WorkspaceExists

log = logging.getLogger(__name__)


class BillingEvents:
    def __init__(
        self,
        app: LinesApp,
        billing: Billing,
        settlement: Settlement,
        workspaces: Workspaces,
        subscriptions: Subscriptions | None = None,
    ) -> None:
        self.app = app
        self.billing = billing
        self.settlement = settlement
        self.workspaces = workspaces
        self.subscriptions = subscriptions

    def invoice_changed(self, invoice_id: str) -> None:
        """Paid, voided or marked uncollectible at the provider: re-read the invoice and
        record what it says (see Settlement.apply_invoice)."""
        self.settlement.apply_invoice(self.billing.get_invoice(invoice_id))

    def subscription_changed(self, subscription_id: str) -> None:
        """Set the workspace's plan and subscription status from the subscription as it is."""
        if self.subscriptions is None:
            return
        sub = self.subscriptions.get_subscription(subscription_id)
        if sub.workspace_id is None:
            log.warning("subscription %s: customer names no workspace", subscription_id)
            return
        plan = Plan(sub.plan) if sub.plan else None
        if self.app.find_workspace(sub.workspace_id) is None:
            if plan is None:
                return
            # A concurrent delivery may create it first: then it is only updated below.
            with contextlib.suppress(WorkspaceExists):
                self.workspaces.create(sub.workspace_id, plan, sub.workspace_id, sub.active)
        followed = self.workspaces.apply_subscription(
            sub.workspace_id, sub.subscription_id, sub.created, plan, sub.active
        )
        if not followed:
            log.info(
                "subscription %s: workspace %s follows another subscription; nothing changes",
                subscription_id, sub.workspace_id,
            )  # fmt: skip
