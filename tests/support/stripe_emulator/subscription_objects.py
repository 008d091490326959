"""Builders for subscriptions, their items, and the legacy `plan` view of a price."""

from __future__ import annotations

from typing import Any

from .objects import list_object, new_id


def plan_from_price(price_obj: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` view of a recurring price, as subscription items still carry it."""
    recurring = price_obj["recurring"] or {}
    return {
        "id": price_obj["id"],
        "object": "plan",
        "active": price_obj["active"],
        "amount": price_obj["unit_amount"],
        "amount_decimal": price_obj["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price_obj["created"],
        "currency": price_obj["currency"],
        "interval": recurring.get("interval", "month"),
        "interval_count": recurring.get("interval_count", 1),
        "livemode": False,
        "metadata": price_obj["metadata"],
        "meter": None,
        "nickname": price_obj["nickname"],
        "product": price_obj["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


PERIOD_SECONDS = {"day": 86_400, "week": 604_800, "month": 2_592_000, "year": 31_536_000}


def subscription_item(
    *, created: int, subscription_id: str, price_obj: dict[str, Any]
) -> dict[str, Any]:
    """A `subscription_item` carrying the full price (and its legacy plan)."""
    interval = (price_obj["recurring"] or {}).get("interval", "month")
    return {
        "id": new_id("si"),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": created,
        "current_period_end": created + PERIOD_SECONDS.get(interval, 2_592_000),
        "current_period_start": created,
        "discounts": [],
        "metadata": {},
        "plan": plan_from_price(price_obj),
        "price": price_obj,
        "quantity": 1,
        "subscription": subscription_id,
        "tax_rates": [],
    }


def subscription(
    *,
    created: int,
    customer_id: str,
    price_obj: dict[str, Any],
    status: str,
    metadata: dict[str, str],
) -> dict[str, Any]:
    """A `subscription` object with one item."""
    sub_id = new_id("sub")
    item = subscription_item(created=created, subscription_id=sub_id, price_obj=price_obj)
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": price_obj["currency"],
        "customer": customer_id,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": list_object([item], f"/v1/subscription_items?subscription={sub_id}"),
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }
