"""Builders for invoices, invoice items and invoice line items (Stripe's shapes)."""

from __future__ import annotations

from typing import Any

from .objects import empty_address, list_object, new_id


def invoice(
    *,
    created: int,
    customer: dict[str, Any],
    currency: str,
    collection_method: str,
    due_date: int | None,
    auto_advance: bool,
    description: str | None,
    metadata: dict[str, str],
    footer: str | None,
) -> dict[str, Any]:
    """A draft `invoice` with no lines."""
    invoice_id = new_id("in")
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Tuco Lines (Stripe emulator)",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_paid_off_stripe": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": auto_advance,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": created + 3600 if auto_advance else None,
        "billing_reason": "manual",
        "collection_method": collection_method,
        "created": created,
        "currency": currency,
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": customer["address"] or empty_address(),
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": customer["phone"],
        "customer_shipping": None,
        "customer_tax_exempt": customer["tax_exempt"],
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discounts": [],
        "due_date": due_date,
        "effective_at": None,
        "ending_balance": None,
        "footer": footer,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_object([], f"/v1/invoices/{invoice_id}/lines"),
        "livemode": False,
        "metadata": metadata,
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": created,
        "period_start": created,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": {
            "amount_tax_display": None,
            "pdf": {"page_size": "auto"},
            "template": None,
            "template_version": None,
        },
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subscription": None,
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": None,
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": created,
    }


def _pricing(price_obj: dict[str, Any] | None, unit_amount: int) -> dict[str, Any]:
    details = {"price": price_obj["id"], "product": price_obj["product"]} if price_obj else None
    return {
        "price_details": details,
        "type": "price_details",
        "unit_amount_decimal": str(unit_amount),
    }


def invoiceitem(
    *,
    created: int,
    customer_id: str,
    invoice_id: str | None,
    amount: int,
    currency: str,
    quantity: int,
    description: str | None,
    metadata: dict[str, str],
    price_obj: dict[str, Any] | None,
    period: dict[str, int],
) -> dict[str, Any]:
    """An `invoiceitem`; `amount` is the total (unit amount times quantity)."""
    return {
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer_id,
        "customer_account": None,
        "date": created,
        "description": description,
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": metadata,
        "net_amount": amount,
        "parent": None,
        "period": period,
        "pricing": _pricing(price_obj, amount // max(quantity, 1)),
        "proration": False,
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "tax_rates": [],
        "test_clock": None,
    }


def line_item(item: dict[str, Any], invoice_id: str) -> dict[str, Any]:
    """The invoice `line_item` that an invoice item becomes on its invoice."""
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item["description"],
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(item["metadata"]),
        "parent": {
            "invoice_item_details": {
                "invoice_item": item["id"],
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": None,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
        "period": dict(item["period"]),
        "pretax_credit_amounts": [],
        "pricing": dict(item["pricing"]),
        "quantity": item["quantity"],
        "quantity_decimal": item["quantity_decimal"],
        "subscription": None,
        "subtotal": item["amount"],
        "taxes": [],
    }


def recompute_totals(inv: dict[str, Any]) -> None:
    """Refresh subtotal/total/amount_due/amount_remaining from the lines (no tax, no discounts)."""
    subtotal = sum(line["amount"] for line in inv["lines"]["data"])
    inv["subtotal"] = inv["subtotal_excluding_tax"] = subtotal
    inv["total"] = inv["total_excluding_tax"] = subtotal
    inv["amount_due"] = max(subtotal + inv["starting_balance"], 0)
    inv["amount_remaining"] = max(inv["amount_due"] - inv["amount_paid"], 0)
