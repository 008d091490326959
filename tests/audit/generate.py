"""A large, deterministic event store, written straight through the event-sourced
application in big batches (the HTTP and command paths are far too slow for 100k events).

Every workspace is on the growth plan with a phone override that includes all its lines;
each line is an included request (Requested + ProvisioningStarted, and LineAdmitted on the
workspace: 3 events), and every `activate_every`-th one is also Activated (a 4th event).
Ids, names and numbers follow from the arguments alone, so two runs write the same log
(the timestamps are the only thing that differs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from api.bootstrap import Services
from domain.enums import Billing, Channel, LineType, Plan, RequestSource
from domain.line_request import LineRequest
from domain.workspace import Workspace

NAMESPACE = UUID("0b7e2b64-6a52-4b8e-8f0e-2f3c3a1d9c10")
STARTED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Generated:
    events: int = 0
    lines: dict[str, list[UUID]] = field(default_factory=dict)  # workspace id -> its requests

    @property
    def workspaces(self) -> list[str]:
        return list(self.lines)


def events_for(workspaces: int, lines_per_workspace: int, activate_every: int = 0) -> int:
    """How many events `generate` writes with these arguments."""
    activated = lines_per_workspace // activate_every if activate_every else 0
    return workspaces * (2 + 3 * lines_per_workspace + activated)


def request_id(seed: str, workspace_id: str, n: int) -> UUID:
    return uuid5(NAMESPACE, f"{seed}:{workspace_id}:{n}")


def generate(
    services: Services,
    workspaces: int,
    lines_per_workspace: int,
    *,
    activate_every: int = 0,
    per_save: int = 200,
    seed: str = "gen",
    catch_up: bool = True,
) -> Generated:
    """Write the store; with `catch_up`, project it too. Returns what it wrote."""
    app = services.app
    before = app.recorder.max_notification_id() or 0
    out = Generated()
    for w in range(workspaces):
        workspace_id = f"org_{seed}_{w:04d}"
        ws = Workspace(
            workspace_id=workspace_id,
            name=f"Generated {w}",
            plan=Plan.GROWTH,
            subscription_active=True,
        )
        ws.set_override(Channel.PHONE, lines_per_workspace, lines_per_workspace)
        ids = out.lines.setdefault(workspace_id, [])
        pending: list[Aggregate] = []
        for n in range(lines_per_workspace):
            rid = request_id(seed, workspace_id, n)
            billing = ws.admit(rid, Channel.PHONE)
            assert billing is Billing.INCLUDED
            req = LineRequest(
                id=rid,
                workspace_id=workspace_id,
                channel=Channel.PHONE,
                line_type=LineType.PURCHASED,
                first_name=f"First{n}",
                last_name=f"Last{w}",
                email=None,
                phone=None,
                billing=billing,
                price_amount=None,
                currency=None,
                source=RequestSource.API,
                idempotency_key=None,
                fingerprint=f"{seed}:{w}:{n}",
                daily_new_conversations_limit=50,
                daily_total_messages_limit=500,
            )
            req.start_provisioning(STARTED_AT)
            if activate_every and (n + 1) % activate_every == 0:
                req.activate(phone=f"+1555{w:03d}{n:04d}", email=None, provider_ref=f"gen-{n}")
            ids.append(rid)
            pending.append(req)
            if len(pending) == per_save - 1:
                app.save(ws, *pending)
                pending = []
        app.save(ws, *pending)
    out.events = (app.recorder.max_notification_id() or 0) - before
    if catch_up:
        services.read_model.catch_up()
    return out
