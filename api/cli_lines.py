"""`tuco lines configure|limits` and `tuco sandbox line`: operating active lines."""

from __future__ import annotations

import argparse

from eventsourcing.domain import Aggregate

from api.bootstrap import Services
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
    "sandbox_line": sandbox_line,
}
