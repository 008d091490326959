"""A payment reported at the same moment through the webhook on one process and through
reconciliation on another is recorded once (issue 12 point 1), on SQLite and PostgreSQL.
Two service instances on one database stand for two processes: each has its own writer and
aggregates in memory; a barrier releases both reports together."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from uuid import UUID

import pytest

from api.bootstrap import Services, build
from domain.decisions import LineDetails
from domain.enums import Channel, LineType, Plan, RequestSource
from tests.stripe.test_billing_contract import stripe_settings
from tests.support.stripe_emulator import StripeEmulator

ROUNDS = 5


@pytest.fixture
def two(database_url: str, emu: StripeEmulator) -> Iterator[tuple[Services, Services]]:
    first = build(stripe_settings(database_url, emu))
    second = build(stripe_settings(database_url, emu))
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def add_on(services: Services, workspace_id: str) -> tuple[UUID, str]:
    services.workspaces.create(workspace_id, Plan.STARTER, workspace_id, True)
    view = services.requests.request_line(
        LineDetails(
            workspace_id=workspace_id,
            channel=Channel.EMAIL,
            line_type=LineType.PURCHASED,
            first_name="Grace",
            last_name="Hopper",
            email="grace@example.com",
            phone=None,
            source=RequestSource.API,
        )
    )
    assert view.invoice_id is not None
    return view.id, view.invoice_id


def together(*calls: Callable[[], object]) -> None:
    """Run the calls in threads released by one barrier; re-raise the first failure."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait(timeout=30)
        try:
            call()
        except Exception as e:  # noqa: BLE001 (handed to the test thread below)
            errors.append(e)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a report never finished"
    if errors:
        raise errors[0]


def test_a_payment_reported_by_webhook_and_reconciliation_at_once_is_recorded_once(
    two: tuple[Services, Services], emu: StripeEmulator
) -> None:
    webhook_side, reconcile_side = two
    for n in range(ROUNDS):
        workspace_id = f"org_double_{n}"
        request_id, invoice_id = add_on(webhook_side, workspace_id)
        emu.pay_invoice(invoice_id)  # no webhook URL: only the two reports below

        together(
            lambda i=invoice_id: webhook_side.billing_events.invoice_changed(i),
            lambda r=request_id: reconcile_side.settlement.reconcile(r),
        )

        request_events = Counter(type(e).__name__ for e in webhook_side.app.history(request_id))
        assert (request_events["Paid"], request_events["ProvisioningStarted"]) == (1, 1), (
            n, request_events
        )  # fmt: skip
        ws = webhook_side.app.workspace(workspace_id)
        settled = [e for e in webhook_side.app.events.get(ws.id)
                   if type(e).__name__ == "PaymentSettled"]  # fmt: skip
        assert len(settled) == 1, n
        for side in two:
            assert side.app.view(request_id).state.value == "provisioning"
