"""A small Stripe-compatible HTTP API emulator for tests that drive the real `stripe` SDK.

    from tests.support.stripe_emulator import StripeEmulator
    with StripeEmulator(webhook_secret="whsec_test", api_key="sk_test_emulator") as emu:
        client = stripe.StripeClient(
            "sk_test_emulator", base_addresses={"api": emu.base_url}, max_network_retries=0
        )

Modules: `emulator` (the public class), `server` (HTTP, auth, idempotency, request log),
`routes` (the /v1 endpoints), `store` (state, lists, subscriptions), `billing` (invoice and
refund rules), `expand` (`expand[]`), `params` (form decoding), `objects` / `invoice_objects` /
`payment_objects` (Stripe's shapes), `webhooks` (signing and delivery), `errors`.
"""

from .emulator import StripeEmulator
from .errors import EmulatedStripeError

__all__ = ["EmulatedStripeError", "StripeEmulator"]
