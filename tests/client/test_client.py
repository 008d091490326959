"""The Python client (client/tuco_client) against a real `tuco serve`."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.client.conftest import Recording, Served
from tuco_client import (
    ChannelNotAvailable,
    IdempotencyConflict,
    InvalidTransition,
    Line,
    LineLimitReached,
    LineRequest,
    NotFound,
    PaymentPending,
    PaymentStatus,
    Status,
    SubscriptionRequired,
    TucoClient,
    Unauthorized,
    UnexpectedStatus,
    ValidationError,
    WaitTimeout,
)


def client(served: Served, workspace: str, **kwargs: object) -> TucoClient:
    return TucoClient(served.base_url, served.keys[workspace], **kwargs)  # type: ignore[arg-type]


def test_request_line_sends_a_fresh_idempotency_key_and_answers_a_typed_request(
    served: Served,
) -> None:
    recording = Recording()
    with client(served, "org_client", transport=recording) as tuco:
        first = tuco.request_line("phone", "Ada", "Lovelace")
        second = tuco.request_line("phone", "Alan", "Turing")
    assert isinstance(first, LineRequest) and isinstance(first.line, Line)
    assert first.status is Status.PROVISIONING
    assert first.line.payment_status is PaymentStatus.NOT_REQUIRED
    assert (first.line.first_name, first.line.workspace_id) == ("Ada", "org_client")
    assert isinstance(first.line.created_at, datetime) and first.line.created_at.tzinfo
    assert first.line.usage.new_messages == 0
    assert first.id != second.id
    keys = [r.headers.get("idempotency-key") for r in recording.sent]
    assert all(keys) and len(set(keys)) == 2


def test_the_same_idempotency_key_answers_the_same_request(served: Served) -> None:
    with client(served, "org_starter") as tuco:
        a = tuco.request_line("email", "Mae", "Jemison", email="mae@example.com",
                              idempotency_key="order-1")  # fmt: skip
        again = tuco.request_line("email", "Mae", "Jemison", email="mae@example.com",
                                  idempotency_key="order-1")  # fmt: skip
        assert again.id == a.id
        with pytest.raises(IdempotencyConflict) as info:
            tuco.request_line("email", "Other", "Body", email="o@example.com",
                              idempotency_key="order-1")  # fmt: skip
        assert (info.value.status, info.value.error_code) == (409, "idempotency_conflict")
        tuco.cancel(a.id)


def test_wait_for_polls_until_the_sandbox_activates_the_line(served: Served) -> None:
    with client(served, "org_client") as tuco:
        posted = tuco.request_line("phone", "Grace", "Hopper")
        active = tuco.wait_for(posted.id, "active", timeout=60)
        assert active.status is Status.ACTIVE and active.line.is_active
        assert tuco.get(posted.id).status is Status.ACTIVE
        types = [e.type for e in tuco.events(posted.id)]
        assert types[0] == "Requested" and "Activated" in types
        assert [e.version for e in tuco.events(posted.id)] == list(range(1, len(types) + 1))


def test_an_add_on_pays_by_link_blocks_the_next_and_cancels(served: Served) -> None:
    with client(served, "org_addon") as tuco:
        addon = tuco.request_line("email", "Hedy", "Lamarr", email="hedy@example.com")
        assert addon.status is Status.AWAITING_PAYMENT and addon.payment_url
        assert tuco.payment_link(addon.id).payment_url == addon.payment_url
        with pytest.raises(PaymentPending) as pending:
            tuco.request_line("email", "Next", "One", email="next@example.com")
        assert pending.value.status == 409
        assert pending.value.request_id == addon.id
        with pytest.raises(WaitTimeout) as waited:
            tuco.wait_for(addon.id, Status.ACTIVE, timeout=0.3, interval=0.05)
        assert waited.value.last_status == "awaiting_payment"
        canceled = tuco.cancel(addon.id)
        assert canceled.status is Status.CANCELED
        with pytest.raises(InvalidTransition):
            tuco.cancel(addon.id)
        with pytest.raises(UnexpectedStatus) as ended:
            tuco.wait_for(addon.id, "active", timeout=60)
        assert ended.value.reached == "canceled"


def test_errors_are_typed_per_spec_code(served: Served) -> None:
    with client(served, "org_client") as tuco:
        with pytest.raises(ValidationError) as invalid:
            tuco.request_line("phone", "", "Lovelace")
        assert (invalid.value.status, invalid.value.param) == (422, "firstName")
        with pytest.raises(ValidationError) as bad_email:
            tuco.request_line("email", "Ada", "Lovelace", email="not-an-email")
        assert bad_email.value.param == "email"
        with pytest.raises(NotFound) as missing:
            tuco.get("00000000-0000-4000-8000-000000000000")
        assert missing.value.status == 404
    with client(served, "org_mini") as tuco, pytest.raises(ChannelNotAvailable) as na:
        tuco.request_line("phone", "Ada", "Lovelace")
    assert na.value.status == 403
    with client(served, "org_lapsed") as tuco, pytest.raises(SubscriptionRequired):
        tuco.request_line("phone", "Ada", "Lovelace")
    with client(served, "org_starter") as tuco:
        tuco.request_line("phone", "One", "Included")
        with pytest.raises(LineLimitReached):
            tuco.request_line("phone", "Two", "Refused")
    with TucoClient(served.base_url, "tk_not_a_key") as tuco, pytest.raises(Unauthorized) as u:
        list(tuco.lines())
    assert u.value.status == 401


def test_iterators_walk_every_page_newest_first_with_filters(served: Served) -> None:
    recording = Recording()
    with client(served, "org_paging", transport=recording) as tuco:
        ids = [tuco.request_line("phone", f"P{n}", "Paged").id for n in range(5)]
        recording.sent.clear()
        assert [line.id for line in tuco.lines(page_size=2)] == ids[::-1]
        assert sum("/api/lines/by-user" in str(r.url) for r in recording.sent) == 3
        assert [r.id for r in tuco.line_requests(page_size=2)] == ids[::-1]
        assert [r.id for r in tuco.line_requests(channel="phone", page_size=10)] == ids[::-1]
        assert list(tuco.lines(channel="email")) == []
        assert list(tuco.line_requests(status=Status.CANCELED)) == []
        tuco.wait_for(ids[0], "active", timeout=60)
        assert ids[0] in [line.id for line in tuco.lines(status="active", page_size=1)]
