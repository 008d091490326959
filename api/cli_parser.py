"""The `tuco` argument grammar (SPEC §5)."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from domain.enums import Channel, Plan


class OneLineErrors(argparse.ArgumentParser):
    """A bad argument is one line on stderr (and exit code 2), not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(h: dict[str, Any]) -> argparse.ArgumentParser:
    """`h` maps handler names to the functions in api.cli."""
    p = OneLineErrors(prog="tuco", description="Tuco Lines service operations")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API (and the background worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=h["_port"], default=8000)
    serve.add_argument("--workers", type=h["_workers"], default=1, help="server processes")
    serve.add_argument("--no-worker", action="store_true", help="do not run the worker here")
    serve.set_defaults(handler=h["serve"])
    sub.add_parser("worker", help="run the background worker alone").set_defaults(
        handler=h["worker"]
    )

    db = sub.add_parser("db", help="database").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="create or migrate every table").set_defaults(
        handler=h["db_upgrade"]
    )

    plans = [x.value for x in Plan]
    channels = [c.value for c in Channel]
    ws = sub.add_parser("workspaces").add_subparsers(dest="ws", required=True)
    c = ws.add_parser("create")
    c.add_argument("id")
    c.add_argument("--plan", required=True, choices=plans)
    c.add_argument("--name")
    c.add_argument("--inactive", action="store_true", help="no active subscription yet")
    c.set_defaults(handler=h["workspaces_create"])
    c = ws.add_parser("set-plan")
    c.add_argument("id")
    c.add_argument("plan", choices=plans)
    c.set_defaults(handler=h["workspaces_set_plan"])
    c = ws.add_parser("set-subscription")
    c.add_argument("id")
    c.add_argument("status", choices=["active", "inactive"])
    c.set_defaults(handler=h["workspaces_set_subscription"])
    c = ws.add_parser("override")
    c.add_argument("id")
    c.add_argument("--channel", required=True, choices=channels)
    c.add_argument("--included", type=h["_nonneg"])
    c.add_argument("--max", type=h["_nonneg"])
    c.set_defaults(handler=h["workspaces_override"])

    keys = sub.add_parser("keys").add_subparsers(dest="keys", required=True)
    c = keys.add_parser("create")
    c.add_argument("workspace_id")
    c.set_defaults(handler=h["keys_create"])
    c = keys.add_parser("list")
    c.add_argument("workspace_id")
    c.set_defaults(handler=h["keys_list"])
    c = keys.add_parser("revoke")
    c.add_argument("key", help="the key's prefix (first 12 characters) or the whole key")
    c.set_defaults(handler=h["keys_revoke"])

    lines = sub.add_parser("lines").add_subparsers(dest="lines", required=True)
    c = lines.add_parser("activate")
    c.add_argument("id", type=h["_uuid"])
    c.add_argument("--phone")
    c.add_argument("--email")
    c.set_defaults(handler=h["lines_activate"])
    c = lines.add_parser("fail")
    c.add_argument("id", type=h["_uuid"])
    c.add_argument("--reason", required=True)
    c.set_defaults(handler=h["lines_fail"])

    c = lines.add_parser("configure", help="where the line's health is probed")
    c.add_argument("id", type=h["_uuid"])
    c.add_argument("--server-url", required=True)
    c.set_defaults(handler=h["lines_configure"])
    c = lines.add_parser("limits", help="the line's daily limits")
    c.add_argument("id", type=h["_uuid"])
    c.add_argument("--new-conversations", type=h["_nonneg"])
    c.add_argument("--total-messages", type=h["_nonneg"])
    c.set_defaults(handler=h["lines_limits"])

    sandbox = sub.add_parser("sandbox").add_subparsers(dest="sandbox", required=True)
    c = sandbox.add_parser("line", help="make a sandbox line report down or iMessage off")
    c.add_argument("id", type=h["_uuid"])
    updown = c.add_mutually_exclusive_group()
    updown.add_argument("--up", dest="up", action="store_true", default=None)
    updown.add_argument("--down", dest="up", action="store_false")
    c.add_argument("--imessage", choices=["available", "unavailable"])
    c.set_defaults(handler=h["sandbox_line"])

    c = sub.add_parser("audit", help="a request's history and state, or `audit verify`")
    c.add_argument("target", help="a line request id, or `verify` to replay everything")
    c.add_argument("--as-of", help="the state at this ISO time")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=h["audit"])

    proj = sub.add_parser("projections").add_subparsers(dest="projections", required=True)
    c = proj.add_parser("rebuild", help="replay from position 0 and swap in, no downtime")
    c.add_argument("name", nargs="?", help="the projection (default: all, i.e. lines)")
    c.set_defaults(handler=h["projections_rebuild"])
    proj.add_parser("status", help="position, head and lag").set_defaults(
        handler=h["projections_status"]
    )
    return p
