"""TUCO_PROVISIONER=http over real HTTP both ways (SPEC §7): signed orders to the test
provisioning service, its signed callbacks to a real uvicorn, polling for lost callbacks.
Both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from adapters.signing import Signer, new_secret
from application.ports import InvoiceStatus
from domain.enums import Channel, HealthStatus
from tests.http.helpers import email_body, phone_body
from tests.provisioning.conftest import POLL_SECONDS, SECRET, Live, eventually, roomy_tenant
from tests.support.provisioning_service import FAILURE_REASON, Mode

ORDER_FIELDS = {"id", "workspaceId", "channel", "lineType", "firstName", "lastName", "email",
                "phone", "callbackUrl"}  # fmt: skip


def test_full_flow_signed_order_callback_active_and_a_health_probe(live: Live) -> None:
    t = live.tenant()
    request_id = live.request(t, phone_body())["line"]["_id"]
    order = live.ordered(request_id)

    # The order: SPEC §7's body, the request id as the order id, signed (the service
    # verified it and refuses what does not verify).
    assert set(order) == ORDER_FIELDS
    assert order["id"] == request_id
    assert (order["workspaceId"], order["channel"], order["lineType"]) == (
        "org_prov", "phone", "purchased",
    )  # fmt: skip
    assert order["callbackUrl"] == f"{live.url}/internal/provisioning/{request_id}"
    seen = live.provider.snapshot()
    assert seen.bad_signatures == 0
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(seen.order_headers[0])

    eventually(lambda: live.state(request_id) == "active", "the callback to activate it")
    answer = live.provider.active(order)
    line = live.get(t, request_id)["line"]
    assert (line["provisioningStatus"], line["isActive"], line["phone"]) == (
        "active", True, answer["phone"],
    )  # fmt: skip
    req = live.services.app.line_request(UUID(request_id))
    assert req.provider_ref == f"prov-{request_id[:8]}"
    assert req.server_url == live.provider.server_url(request_id)
    assert [c.status for c in live.provider.snapshot().callbacks] == [200]

    # The worker sends nothing more for it, and a health check probes the provider's URL.
    live.sweep_until(lambda: True, "one more sweep")
    assert len(live.provider.snapshot().orders) == 1
    result = live.services.health.check(UUID(request_id))
    assert result.status is HealthStatus.HEALTHY
    probes = live.provider.snapshot().probes
    assert f"/lines/{request_id}/health" in probes
    assert f"/lines/{request_id}/imessage/status" in probes


@pytest.mark.parametrize("provider", [Mode.FAILURE], indirect=True)
def test_a_failure_callback_fails_the_request_and_refunds_the_paid_add_on(live: Live) -> None:
    t = live.tenant()
    live.services.workspaces.set_override("org_prov", Channel.EMAIL, 0, None)  # email: add-on
    created = live.request(t, email_body())
    assert created["status"] == "awaiting_payment"
    request_id = created["line"]["_id"]
    invoice_id = created["line"]["stripeInvoiceId"]
    assert live.http.post(f"/sandbox/invoices/{invoice_id}/pay").status_code in (200, 303)
    assert live.state(request_id) == "provisioning"

    live.ordered(request_id)
    eventually(lambda: live.state(request_id) == "failed", "the failure callback")
    req = live.services.app.line_request(UUID(request_id))
    assert req.failure_reason == FAILURE_REASON
    live.sweep_until(
        lambda: live.get(t, request_id)["line"]["paymentStatus"] == "refunded", "the refund"
    )
    assert "Refunded" in live.events(request_id)
    assert live.services.billing.get_invoice(invoice_id).status is InvoiceStatus.PAID
    assert req.workspace_id == "org_prov"


@pytest.mark.parametrize("provider", [Mode.SILENT], indirect=True)
def test_a_lost_callback_is_healed_by_polling(live: Live) -> None:
    t = live.tenant()
    request_id = live.request(t, phone_body(phone="+14155550199"))["line"]["_id"]
    live.ordered(request_id)
    live.clock.advance(POLL_SECONDS - 1)
    live.services.worker.run_once()
    assert live.provider.snapshot().polls == []  # not before TUCO_PROVISIONER_POLL_SECONDS
    assert live.state(request_id) == "provisioning"

    live.clock.advance(2)
    live.sweep_until(lambda: live.state(request_id) == "active", "the poll to activate it")
    assert live.provider.snapshot().polls == [request_id]
    assert live.provider.snapshot().callbacks == []
    req = live.services.app.line_request(UUID(request_id))
    assert (req.phone, req.server_url) == ("+14155550199", live.provider.server_url(request_id))


@pytest.mark.parametrize("provider", [Mode.SLOW], indirect=True)
def test_forged_stale_unsigned_tampered_and_replayed_callbacks_change_nothing(live: Live) -> None:
    t = roomy_tenant(live.services)
    first = live.request(t, phone_body())["line"]["_id"]
    second = live.request(t, phone_body(firstName="Bob"))["line"]["_id"]
    body = json.dumps({"status": "active", "phone": "+14155550111"}).encode()
    signer = Signer(SECRET)

    def post(request_id: str, content: bytes, headers: dict[str, str]) -> tuple[int, str]:
        r = live.http.post(f"/internal/provisioning/{request_id}", content=content,
                           headers=headers | {"content-type": "application/json"})  # fmt: skip
        code = r.json()["error"]["code"] if r.status_code >= 400 else ""
        return r.status_code, code

    head = live.log_head()
    stale = datetime.now(UTC) - timedelta(minutes=10)
    refused = {
        "unsigned": post(first, body, {}),
        "forged": post(first, body, Signer(new_secret()).headers(body)),
        "stale": post(first, body, signer.headers(body, at=stale)),
        "tampered": post(first, body.replace(b"0111", b"0112"), signer.headers(body)),
    }
    assert refused == dict.fromkeys(refused, (400, "invalid_signature"))
    assert live.log_head() == head
    assert live.state(first) == "provisioning"

    # A genuine callback for the first request, then the same message at the second's URL.
    captured = signer.headers(body)
    assert post(first, body, captured) == (200, "")
    assert live.state(first) == "active"
    head = live.log_head()
    assert post(second, body, captured) == (400, "invalid_signature")
    assert live.state(second) == "provisioning"
    assert live.log_head() == head
    # Redelivered where it belongs it is a duplicate: 200, nothing changes.
    assert post(first, body, captured) == (200, "")
    assert live.log_head() == head

    # A valid signature for an id that names no request: 404.
    unknown = "00000000-0000-4000-8000-000000000000"
    assert post(unknown, body, signer.headers(body)) == (404, "not_found")
    assert post("not-an-id", body, signer.headers(body)) == (404, "not_found")
    # Signed but not an answer: 422, nothing recorded.
    bad = json.dumps({"status": "done"}).encode()
    assert post(second, bad, signer.headers(bad)) == (422, "validation_error")
    assert live.log_head() == head


@pytest.mark.parametrize("provider", [Mode.DUPLICATE], indirect=True)
def test_duplicate_callbacks_activate_once(live: Live) -> None:
    t = live.tenant()
    request_id = live.request(t, phone_body())["line"]["_id"]
    live.ordered(request_id)
    eventually(lambda: len(live.provider.snapshot().callbacks) == 3, "three callbacks")
    assert [c.status for c in live.provider.snapshot().callbacks] == [200, 200, 200]
    assert live.events(request_id).count("Activated") == 1
    assert live.state(request_id) == "active"


@pytest.mark.parametrize("provider", [Mode.OUT_OF_ORDER], indirect=True)
def test_a_late_active_after_failed_changes_nothing(live: Live) -> None:
    t = live.tenant()
    request_id = live.request(t, phone_body())["line"]["_id"]
    live.ordered(request_id)
    eventually(lambda: len(live.provider.snapshot().callbacks) == 2, "both callbacks")
    assert [c.status for c in live.provider.snapshot().callbacks] == [200, 200]
    assert live.state(request_id) == "failed"
    assert "Activated" not in live.events(request_id)
    assert live.events(request_id).count("ProvisioningFailed") == 1


@pytest.mark.parametrize("provider", [Mode.DOWN], indirect=True)
def test_orders_are_retried_while_the_service_is_down(live: Live) -> None:
    t = live.tenant()
    request_id = live.request(t, phone_body())["line"]["_id"]
    live.ordered(request_id)
    assert live.provider.snapshot().refused == 2
    assert len(live.provider.snapshot().orders) == 1
    eventually(lambda: live.state(request_id) == "active", "activation after the outage")


@pytest.mark.parametrize("provider", [Mode.SLOW], indirect=True)
def test_a_slow_provider_gets_one_order_and_the_line_waits(live: Live) -> None:
    t = roomy_tenant(live.services)
    request_id = live.request(t, email_body())["line"]["_id"]
    live.ordered(request_id)
    for _ in range(3):
        live.services.worker.run_once()
    assert live.state(request_id) == "provisioning"
    assert len(live.provider.snapshot().orders) == 1  # sent once, not on every sweep
    live.provider.release()
    eventually(lambda: live.state(request_id) == "active", "the slow callback")
    assert live.services.app.line_request(UUID(request_id)).email == "grace@example.com"
