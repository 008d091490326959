"""`tuco audit LINE_ID [--as-of ISO_TIME] [--json]`: a request's events in order and the
state they fold to, at the end or at any moment of its history (SPEC §5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from starlette.testclient import TestClient

from domain.ids import workspace_aggregate_id
from tests.audit.conftest import Story, Tuco

EVENT_TYPES = ["Requested", "Invoiced", "Paid", "ProvisioningStarted", "Activated"]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def audit_json(tuco: Tuco, request_id: str, *args: str) -> dict[str, Any]:
    r = tuco("audit", request_id, "--json", *args)
    assert r.code == 0, r.err
    body: dict[str, Any] = json.loads(r.out)
    return body


def test_audit_prints_every_event_in_order_then_the_state_they_fold_to(
    tuco: Tuco, story: Story
) -> None:
    events = audit_json(tuco, story.active)["events"]
    r = tuco("audit", story.active)
    assert r.code == 0, r.err
    lines = r.out.strip().splitlines()
    assert len(lines) == len(EVENT_TYPES) + 1
    for n, (line, event) in enumerate(zip(lines, events, strict=False), start=1):
        version, timestamp, kind = line.split()[:3]
        assert (version, timestamp, kind) == (f"v{n}", event["timestamp"], EVENT_TYPES[n - 1])
    requested, invoiced, paid = lines[0], lines[1], lines[2]
    assert "first_name=Grace" in requested and "billing=addon" in requested
    assert f"invoice_id={events[1]['data']['invoice_id']}" in invoiced
    assert "amount=500" in paid
    assert "provider_ref=mx-1" in lines[4]
    assert lines[-1] == "state: active (payment paid, version 5)"


def test_audit_json_has_the_events_and_the_folded_state(tuco: Tuco, story: Story) -> None:
    body = audit_json(tuco, story.active)
    assert set(body) == {"events", "state"}
    events = body["events"]
    assert [e["type"] for e in events] == EVENT_TYPES
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert all(set(e) == {"type", "version", "timestamp", "data"} for e in events)
    times = [parse_time(e["timestamp"]) for e in events]
    assert times == sorted(times)
    state = body["state"]
    assert state["id"] == story.active
    assert state["workspace_id"] == story.starter.workspace_id
    assert (state["state"], state["payment_status"], state["version"]) == ("active", "paid", 5)
    assert state["invoice_id"] == events[1]["data"]["invoice_id"]
    assert state["amount_paid"] == 500
    assert state["provider_ref"] == "mx-1"
    assert state["email"] == "paid@example.com"


def test_audit_json_events_equal_the_events_endpoint_of_the_owning_workspace(
    tuco: Tuco, story: Story, client: TestClient
) -> None:
    for request_id, tenant in [
        (story.active, story.starter),
        (story.canceled, story.starter),
        (story.awaiting, story.starter),
        (story.provisioning, story.growth),
        (story.failed, story.growth),
    ]:
        api = client.get(f"/api/line-requests/{request_id}/events", headers=tenant.headers)
        assert api.status_code == 200, api.text
        assert audit_json(tuco, request_id)["events"] == api.json()["events"]


def test_audit_states_match_the_lines_the_api_shows(
    tuco: Tuco, story: Story, client: TestClient
) -> None:
    expected = {
        story.active: "active",
        story.awaiting: "awaiting_payment",
        story.canceled: "canceled",
        story.provisioning: "provisioning",
        story.failed: "failed",
    }
    for request_id, state in expected.items():
        assert audit_json(tuco, request_id)["state"]["state"] == state
    failed = audit_json(tuco, story.failed)
    assert [e["type"] for e in failed["events"]] == [
        "Requested",
        "ProvisioningStarted",
        "ProvisioningFailed",
    ]
    assert failed["state"]["failure_reason"] == "carrier said no"


def test_audit_as_of_a_moment_in_the_middle_shows_the_state_then(tuco: Tuco, story: Story) -> None:
    events = audit_json(tuco, story.active)["events"]
    invoiced_at, paid_at = parse_time(events[1]["timestamp"]), parse_time(events[2]["timestamp"])
    assert invoiced_at < paid_at
    then = audit_json(tuco, story.active, "--as-of", events[1]["timestamp"])
    assert then["events"] == events[:2]
    assert (then["state"]["state"], then["state"]["payment_status"]) == (
        "awaiting_payment",
        "pending",
    )
    assert then["state"]["version"] == 2
    assert then["state"]["invoice_id"] == events[1]["data"]["invoice_id"]
    assert then["state"]["amount_paid"] is None

    just_before_paid = (paid_at - timedelta(microseconds=1)).isoformat()
    assert audit_json(tuco, story.active, "--as-of", just_before_paid) == then

    r = tuco("audit", story.active, "--as-of", events[1]["timestamp"])
    assert r.code == 0, r.err
    lines = r.out.strip().splitlines()
    assert [line.split()[2] for line in lines[:-1]] == ["Requested", "Invoiced"]
    assert lines[-1] == "state: awaiting_payment (payment pending, version 2)"


def test_audit_as_of_a_time_without_a_zone_reads_it_as_utc(tuco: Tuco, story: Story) -> None:
    events = audit_json(tuco, story.active)["events"]
    invoiced_at = parse_time(events[1]["timestamp"]).astimezone(UTC).replace(tzinfo=None)
    then = audit_json(tuco, story.active, "--as-of", invoiced_at.isoformat())
    assert [e["type"] for e in then["events"]] == ["Requested", "Invoiced"]


def test_audit_as_of_after_the_last_event_is_the_current_state(tuco: Tuco, story: Story) -> None:
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert audit_json(tuco, story.active, "--as-of", later) == audit_json(tuco, story.active)


def test_audit_as_of_before_the_first_event_says_the_request_did_not_exist_yet(
    tuco: Tuco, story: Story
) -> None:
    events = audit_json(tuco, story.active)["events"]
    before = (parse_time(events[0]["timestamp"]) - timedelta(microseconds=1)).isoformat()
    r = tuco("audit", story.active, "--as-of", before)
    assert r.code == 0, r.err
    assert r.out.strip() == "state: (the request did not exist yet)"
    assert audit_json(tuco, story.active, "--as-of", before) == {"events": [], "state": None}


def test_audit_of_an_unknown_id_exits_non_zero_and_says_it_was_not_found(
    tuco: Tuco, story: Story
) -> None:
    unknown = str(uuid4())
    r = tuco("audit", unknown)
    assert r.code != 0
    assert r.out == ""
    assert "error:" in r.err and unknown in r.err and "no line request" in r.err.lower()
    r = tuco("audit", unknown, "--json")
    assert r.code != 0 and r.out == ""


def test_audit_of_a_workspace_id_is_not_a_line_request(tuco: Tuco, story: Story) -> None:
    workspace = str(workspace_aggregate_id(story.starter.workspace_id))
    r = tuco("audit", workspace)
    assert r.code != 0
    assert workspace in r.err and "no line request" in r.err.lower()


def test_audit_of_a_malformed_id_exits_non_zero_and_names_it(tuco: Tuco, story: Story) -> None:
    r = tuco("audit", "not-a-uuid")
    assert r.code != 0
    assert "not-a-uuid" in r.err and r.out == ""


def test_audit_with_a_malformed_as_of_exits_non_zero_and_names_it(tuco: Tuco, story: Story) -> None:
    r = tuco("audit", story.active, "--as-of", "yesterday")
    assert r.code != 0
    assert "yesterday" in r.err and r.out == ""
