"""SPEC §3/§6.3: a request's state is exactly the fold of its events, also after a round trip
through the event store (enums via application/transcodings.py, Workspace snapshots)."""

from __future__ import annotations

from enum import Enum
from uuid import uuid4

import pytest

import domain.enums as enums
from application.app import LinesApp
from application.transcodings import DOMAIN_ENUMS
from domain.enums import Billing, Channel, LineState, PaymentStatus, Plan
from domain.errors import InvalidTransition, LineLimitReached, PaymentPending
from domain.line_request import LineRequest
from domain.workspace import Workspace
from tests.unit.builders import NOW, STATES, in_state, replay, request


@pytest.fixture
def app() -> LinesApp:
    return LinesApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def busy_workspace() -> Workspace:
    """A workspace with an override, admissions, a settled payment, a release, and a refused
    admission in between (which must leave no trace)."""
    ws = Workspace(
        workspace_id="org_fold", name="Fold", plan=Plan.STARTER, subscription_active=True
    )
    ws.set_override(Channel.PHONE, 2, 3)
    first, second, pending = uuid4(), uuid4(), uuid4()
    ws.admit(first, Channel.PHONE)
    ws.admit(second, Channel.EMAIL)
    ws.settle_payment(second)
    ws.admit(pending, Channel.EMAIL)
    with pytest.raises(PaymentPending):
        ws.admit(uuid4(), Channel.PHONE)
    ws.release_slot(first, Channel.PHONE)
    return ws


@pytest.mark.parametrize("start", list(STATES))
def test_replayed_events_give_the_same_request(start: str) -> None:
    r = in_state(start)
    assert replay(r.collect_events()) == r


def test_replayed_phone_activation_gives_the_same_request() -> None:
    r = request(Billing.INCLUDED, channel=Channel.PHONE)
    r.start_provisioning(NOW)
    r.activate(phone="+15550100", email=None, provider_ref="prov_1")
    assert replay(r.collect_events()) == r


def test_replayed_events_give_the_same_workspace() -> None:
    ws = busy_workspace()
    assert replay(ws.collect_events()) == ws


def test_replay_runs_only_the_mutation_not_the_rules() -> None:
    # The workspace is now full; replaying its admissions must not re-check capacity.
    ws = Workspace(
        workspace_id="org_full", name="Full", plan=Plan.STARTER, subscription_active=True
    )
    ws.admit(uuid4(), Channel.PHONE)
    with pytest.raises(LineLimitReached):
        ws.admit(uuid4(), Channel.PHONE)
    assert replay(ws.collect_events()).held_slots(Channel.PHONE) == 1


@pytest.mark.parametrize("start", list(STATES))
def test_request_round_trips_through_the_event_store(app: LinesApp, start: str) -> None:
    r = in_state(start)
    app.save(r)
    assert app.repository.get(r.id) == r


def test_stored_request_comes_back_with_enum_members_not_strings(app: LinesApp) -> None:
    r = in_state("canceled_paid")
    app.save(r)
    loaded: LineRequest = app.repository.get(r.id)
    assert (loaded.state, loaded.payment_status, loaded.billing, loaded.channel) == (
        LineState.CANCELED,
        PaymentStatus.PAID,
        Billing.ADDON,
        Channel.EMAIL,
    )


def test_stored_history_replays_to_the_loaded_request(app: LinesApp) -> None:
    r = in_state("failed_paid")
    app.save(r)
    assert replay(list(app.events.get(r.id))) == app.repository.get(r.id)


def test_workspace_round_trips_through_the_event_store(app: LinesApp) -> None:
    ws = busy_workspace()
    app.save(ws)
    assert app.repository.get(ws.id) == ws


def test_workspace_snapshot_round_trips_its_state(app: LinesApp) -> None:
    ws = busy_workspace()
    app.save(ws)
    app.take_snapshot(ws.id)
    snapshot = next(iter(app.snapshots.get(ws.id, desc=True, limit=1)))
    restored = snapshot.mutate(None)
    assert restored == ws
    assert isinstance(restored.plan, Plan)
    assert restored.awaiting_payment == ws.awaiting_payment


def test_workspace_loaded_from_snapshot_keeps_deciding_the_same(app: LinesApp) -> None:
    ws = busy_workspace()
    ws.settle_payment(ws.awaiting_payment)
    app.save(ws)
    app.take_snapshot(ws.id)
    loaded: Workspace = app.repository.get(ws.id)
    assert loaded.decide_billing(Channel.PHONE) == ws.decide_billing(Channel.PHONE)


@pytest.mark.parametrize(
    "member", [m for e in DOMAIN_ENUMS for m in e], ids=lambda m: f"{type(m).__name__}.{m.name}"
)
def test_every_domain_enum_member_round_trips_through_the_transcoder(
    app: LinesApp, member: Enum
) -> None:
    transcoder = app.mapper.transcoder
    assert transcoder.decode(transcoder.encode({"v": member})) == {"v": member}


def test_enums_are_stored_as_their_values(app: LinesApp) -> None:
    assert b'"phone"' in app.mapper.transcoder.encode(Channel.PHONE)


def test_every_domain_enum_has_a_transcoding() -> None:
    declared = {v for v in vars(enums).values() if isinstance(v, type) and issubclass(v, Enum)}
    assert declared - {Enum} == set(DOMAIN_ENUMS)


def test_refused_transition_leaves_the_stored_history_unchanged(app: LinesApp) -> None:
    r = request(Billing.INCLUDED)
    r.start_provisioning(NOW)
    app.save(r)
    loaded: LineRequest = app.repository.get(r.id)
    with pytest.raises(InvalidTransition):
        loaded.cancel("user_1", "nope")
    app.save(loaded)
    assert len(list(app.events.get(r.id))) == 2
