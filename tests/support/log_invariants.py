"""SPEC §6 invariants 1, 2, 3 and 5, checked by replaying the whole event log in order
(never from the projections)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.app import LinesApp
from domain.enums import TERMINAL_STATES, Billing, Channel, Plan
from domain.plans import Override, allowance

HOLDING = {"awaiting_payment", "provisioning", "active"}
LIFECYCLE = {
    "Requested",
    "Paid",
    "ProvisioningStarted",
    "Activated",
    "ProvisioningFailed",
    "Canceled",
}


@dataclass
class WorkspaceModel:
    plan: Plan
    overrides: dict[Channel, Override] = field(default_factory=dict)
    states: dict[UUID, str] = field(default_factory=dict)
    channel: dict[UUID, Channel] = field(default_factory=dict)
    billing: dict[UUID, Billing] = field(default_factory=dict)

    def held(self, channel: Channel) -> int:
        return sum(1 for r, s in self.states.items() if s in HOLDING and self.channel[r] is channel)


@dataclass
class Report:
    events: int = 0
    requests: int = 0
    request_ids: list[UUID] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def _all_events(app: LinesApp) -> list[Any]:
    events: list[Any] = []
    start = 0
    while True:
        notes = app.recorder.select_notifications(start, 1000, inclusive_of_start=False)
        if not notes:
            return events
        events += [app.mapper.to_domain_event(n) for n in notes]
        start = notes[-1].id


def check(app: LinesApp) -> Report:
    report = Report()
    workspaces: dict[str, WorkspaceModel] = {}
    by_aggregate: dict[UUID, WorkspaceModel] = {}
    owner: dict[UUID, str] = {}
    history: dict[UUID, list[str]] = defaultdict(list)
    bad = report.violations.append
    for e in _all_events(app):
        report.events += 1
        name = type(e).__name__
        if type(e).__qualname__.startswith("Workspace."):
            if name == "Created":
                workspaces[e.workspace_id] = WorkspaceModel(e.plan)
                by_aggregate[e.originator_id] = workspaces[e.workspace_id]
            elif name == "PlanChanged":
                by_aggregate[e.originator_id].plan = e.plan
            elif name == "OverrideSet":
                overrides = by_aggregate[e.originator_id].overrides
                overrides[e.channel] = Override(e.included, e.max)
                if e.included is None and e.max is None:
                    del overrides[e.channel]
            continue
        if not type(e).__qualname__.startswith("LineRequest."):
            continue  # usage batches hold no lifecycle
        rid = e.originator_id
        history[rid].append(name)
        if name == "Requested":
            report.requests += 1
            report.request_ids.append(rid)
            ws = workspaces[e.workspace_id]
            owner[rid] = e.workspace_id
            rule = allowance(ws.plan, e.channel, ws.overrides.get(e.channel))
            held = ws.held(e.channel)
            if e.billing is Billing.INCLUDED and not held < rule.included:
                bad(f"inv2: {rid} included with {held} held, included {rule.included}")
            if rule.max is not None and not held < rule.max:
                bad(f"inv2: {rid} admitted with {held} held, max {rule.max}")
            ws.channel[rid], ws.billing[rid] = e.channel, e.billing
            ws.states[rid] = "awaiting_payment" if e.billing is Billing.ADDON else "requested"
        ws = workspaces[owner[rid]]
        before = ws.states[rid]
        if before in {s.value for s in TERMINAL_STATES} and name in LIFECYCLE - {"Paid"}:
            bad(f"inv3: {rid} left terminal state {before} by {name}")
        if name == "ProvisioningStarted":
            if ws.billing[rid] is Billing.ADDON and "Paid" not in history[rid]:
                bad(f"inv5: {rid} provisioning without a recorded payment")
            ws.states[rid] = "provisioning"
        elif name in ("Activated", "ProvisioningFailed", "Canceled"):
            ws.states[rid] = {"Activated": "active", "ProvisioningFailed": "failed"}.get(
                name, "canceled"
            )
        awaiting = [r for r, s in ws.states.items() if s == "awaiting_payment"]
        if len(awaiting) > 1:
            bad(f"inv1: {owner[rid]} has {len(awaiting)} requests awaiting payment")
    for rid, names in history.items():
        req = app.line_request(rid)
        modelled = workspaces[owner[rid]].states[rid]
        if req.state_name != modelled or req.version != len(names):
            bad(f"inv3: {rid} folds to {req.state_name} v{req.version}, log says {modelled}")
    return report
