"""`tuco lines configure|limits|pending` and `tuco sandbox line`: operating lines."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from eventsourcing.domain import Aggregate

from api.bootstrap import Services
from application.views import WorkKind
from domain.line_request import LineRequest
from domain.workspace import Workspace


def lines_configure(s: Services, a: argparse.Namespace) -> int:
    def decide(req: LineRequest, ws: Workspace) -> list[Aggregate]:
        req.configure_server(a.server_url)
        return [req]

    s.app.change_request(a.id, decide)
    print(f"line request {a.id}: health is probed at {a.server_url}")
    return 0


def lines_limits(s: Services, a: argparse.Namespace) -> int:
    def decide(req: LineRequest, ws: Workspace) -> list[Aggregate]:
        req.change_limits(a.new_conversations, a.total_messages)
        return [req]

    req = s.app.change_request(a.id, decide)
    print(
        f"line request {a.id}: {req.daily_new_conversations_limit} new conversations, "
        f"{req.daily_total_messages_limit} messages a day"
    )
    return 0


def _age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def lines_pending(s: Services, a: argparse.Namespace) -> int:
    """What waits in provisioning (for an operator, with TUCO_PROVISIONER=manual), oldest
    first, with how long it has waited."""
    s.read_model.wait_for()
    items = s.read_model.pending_work(a.limit, set())
    waiting = [s.app.line_request(i.request_id) for i in items if i.kind is WorkKind.PROVISION]
    waiting = [r for r in waiting if r.provisioning_started_at is not None]
    if not waiting:
        print("no line request waits in provisioning")
        return 0
    now = s.clock.now()

    def started(r: LineRequest) -> datetime:
        return r.provisioning_started_at or now

    for r in sorted(waiting, key=started):
        detail = r.email if r.email else (r.phone or "any number")
        print(
            f"{r.id}  {r.workspace_id}  {r.channel.value} ({detail})  {r.first_name} "
            f"{r.last_name}  waiting {_age(now - started(r))}  since {started(r).isoformat()}"
        )
    return 0


def sandbox_line(s: Services, a: argparse.Namespace) -> int:
    imessage = None if a.imessage is None else a.imessage == "available"
    s.sandbox_lines.set(str(a.id), up=a.up, imessage=imessage)
    up, available = s.sandbox_lines.status(str(a.id))
    print(
        f"sandbox line {a.id}: {'up' if up else 'down'}, "
        f"iMessage {'available' if available else 'unavailable'}"
    )
    return 0


HANDLERS = {
    "lines_configure": lines_configure,
    "lines_limits": lines_limits,
    "lines_pending": lines_pending,
    "sandbox_line": sandbox_line,
}
