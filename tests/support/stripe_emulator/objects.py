"""Builders for Stripe object shapes: ids, customers, products, prices, subscriptions, events and
list envelopes. Field names and types follow Stripe's published fixtures
(/work/shared/stripe/fixtures3-subset.json) for API version 2026-10-28.endive."""

from __future__ import annotations

import secrets
import string
from typing import Any

API_VERSION = "2026-10-28.endive"
ACCOUNT_ID = "acct_1TucoLinesEmu1"

_ALPHABET = string.ascii_letters + string.digits
_SHORT = {"cus", "prod", "si"}  # Stripe uses 14-character suffixes for these


def new_id(prefix: str) -> str:
    """A Stripe-looking id: `in_1Pgc6tB7WZ01zgkWu9fdqL6I`, `cus_QXg1o8vcGmoR32`, ..."""
    length = 14 if prefix in _SHORT else 24
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def empty_address() -> dict[str, Any]:
    """An address with every field null."""
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


def customer(
    *,
    created: int,
    name: str | None,
    email: str | None,
    description: str | None,
    phone: str | None,
    metadata: dict[str, str],
) -> dict[str, Any]:
    """A `customer` object."""
    return {
        "id": new_id("cus"),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": description,
        "discount": None,
        "email": email,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata,
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def product(*, created: int, name: str) -> dict[str, Any]:
    """A `product` object (service type)."""
    return {
        "id": new_id("prod"),
        "object": "product",
        "active": True,
        "created": created,
        "default_price": None,
        "description": None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": created,
        "url": None,
    }


def price(
    *,
    created: int,
    product_id: str,
    unit_amount: int,
    currency: str,
    interval: str | None,
    nickname: str | None,
    metadata: dict[str, str],
) -> dict[str, Any]:
    """A `price` object; `interval=None` makes a one-time price."""
    recurring = (
        {
            "interval": interval,
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
        if interval
        else None
    )
    return {
        "id": new_id("price"),
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": metadata,
        "nickname": nickname,
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if interval else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def event(
    *,
    created: int,
    type: str,
    data_object: dict[str, Any],
    previous_attributes: dict[str, Any] | None,
    request_id: str | None,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """An `event` (snapshot payload) wrapping a copy of the object."""
    data: dict[str, Any] = {"object": data_object}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }


def list_object(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    """Stripe's list envelope."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
