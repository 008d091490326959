"""The `tuco` argument grammar (SPEC §5)."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from api.cli_webhooks import add_parsers as add_webhook_parsers
from domain.enums import Channel, Plan


class HelpWithDefaults(argparse.HelpFormatter):
    """Each option's help ends with its default, unless it is a flag (off unless given), has
    no default (None), or the help already names it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, argparse.SUPPRESS)
            or not (action.option_strings or action.nargs in ("?", "*"))
        ):
            return text
        return f"{text} (default: %(default)s)"


class Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Sub-commands whose `--help` starts with the line their parent lists them with."""

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if "help" in kwargs:
            kwargs.setdefault("description", kwargs["help"])
        return super().add_parser(name, **kwargs)


class OneLineErrors(argparse.ArgumentParser):
    """A bad argument is one line on stderr (and exit code 2), not a usage block. Every
    parser (sub-commands too) shows each option's default in its help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpWithDefaults)
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", Commands)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(h: dict[str, Any], version: str = "unknown") -> argparse.ArgumentParser:
    """`h` maps handler names to the functions in api.cli. Every command, group and option
    has help (tests/unit/test_cli_help.py walks the whole tree)."""
    p = OneLineErrors(
        prog="tuco",
        description="Tuco Lines service operations. Settings come from TUCO_* environment "
        "variables (see the README); every command uses TUCO_DATABASE_URL.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {version}",
                   help="print the version and exit")  # fmt: skip
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="what to do (tuco COMMAND --help for its options)")  # fmt: skip

    serve = sub.add_parser("serve", help="run the HTTP API (and the background worker)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=h["_port"], default=8000, help="port to listen on")
    serve.add_argument("--workers", type=h["_workers"], default=1,
                       help="server processes (1 to 64)")  # fmt: skip
    serve.add_argument("--no-worker", action="store_true",
                       help="do not run the background worker in these processes "
                       "(default: it runs, in the one process holding its lease)")  # fmt: skip
    serve.set_defaults(handler=h["serve"])
    sub.add_parser("worker", help="run the background worker alone (Ctrl-C stops it)"
                   ).set_defaults(handler=h["worker"])  # fmt: skip

    db = sub.add_parser("db", help="the database schema").add_subparsers(
        dest="db", required=True, metavar="ACTION", help="what to do with the schema"
    )
    db.add_parser("upgrade", help="create or migrate every table (safe to run again)"
                  ).set_defaults(handler=h["db_upgrade"])  # fmt: skip

    plans = [x.value for x in Plan]
    channels = [c.value for c in Channel]
    ws = sub.add_parser("workspaces", help="create workspaces, set plans and limits"
                        ).add_subparsers(dest="ws", required=True, metavar="ACTION",
                                         help="what to do with a workspace")  # fmt: skip
    c = ws.add_parser("create", help="create a workspace")
    c.add_argument("id", help="the workspace id (its Clerk organization id for dashboards)")
    c.add_argument("--plan", required=True, choices=plans, help="its base plan")
    c.add_argument("--name", help="display name (default: the id)")
    c.add_argument("--inactive", action="store_true",
                   help="no active subscription yet (default: active)")  # fmt: skip
    c.set_defaults(handler=h["workspaces_create"])
    c = ws.add_parser("set-plan", help="change a workspace's base plan")
    c.add_argument("id", help="the workspace id")
    c.add_argument("plan", choices=plans, help="the new plan")
    c.set_defaults(handler=h["workspaces_set_plan"])
    c = ws.add_parser("set-subscription", help="mark the subscription active or inactive")
    c.add_argument("id", help="the workspace id")
    c.add_argument("status", choices=["active", "inactive"], help="the subscription status")
    c.set_defaults(handler=h["workspaces_set_subscription"])
    c = ws.add_parser("override", help="raise or lower a workspace's limits for a channel")
    c.add_argument("id", help="the workspace id")
    c.add_argument("--channel", required=True, choices=channels, help="the channel to change")
    c.add_argument("--included", type=h["_nonneg"],
                   help="lines included in the plan (default: unchanged)")  # fmt: skip
    c.add_argument("--max", type=h["_nonneg"],
                   help="most lines in all, add-ons included (default: unchanged)")  # fmt: skip
    c.set_defaults(handler=h["workspaces_override"])

    keys = sub.add_parser("keys", help="workspace API keys").add_subparsers(
        dest="keys", required=True, metavar="ACTION", help="what to do with keys"
    )
    c = keys.add_parser("create", help="make a new API key (printed once)")
    c.add_argument("workspace_id", help="the workspace the key acts for")
    c.set_defaults(handler=h["keys_create"])
    c = keys.add_parser("list", help="a workspace's keys: prefix, created, revoked")
    c.add_argument("workspace_id", help="the workspace id")
    c.set_defaults(handler=h["keys_list"])
    c = keys.add_parser("revoke", help="revoke a key (every server stops taking it in 0.5 s)")
    c.add_argument("key", help="the key's prefix (first 12 characters) or the whole key")
    c.set_defaults(handler=h["keys_revoke"])

    lines = sub.add_parser("lines", help="operate line requests by hand").add_subparsers(
        dest="lines", required=True, metavar="ACTION", help="what to do with a line"
    )
    c = lines.add_parser("activate", help="mark a provisioning line active")
    c.add_argument("id", type=h["_uuid"], help="the line request id")
    c.add_argument("--phone", help="the number provisioned, E.164 (default: none)")
    c.add_argument("--email", help="the address provisioned (default: none)")
    c.set_defaults(handler=h["lines_activate"])
    c = lines.add_parser("fail", help="mark a provisioning line failed (a paid one is refunded)")
    c.add_argument("id", type=h["_uuid"], help="the line request id")
    c.add_argument("--reason", required=True, help="why, recorded on the event")
    c.set_defaults(handler=h["lines_fail"])

    c = lines.add_parser("pending", help="line requests waiting in provisioning, oldest first")
    c.add_argument(
        "--limit", type=h["_listed"], default=1000, help="at most this many (default 1000)"
    )
    c.set_defaults(handler=h["lines_pending"])
    c = lines.add_parser("configure", help="where the line's health is probed")
    c.add_argument("id", type=h["_uuid"], help="the line request id")
    c.add_argument("--server-url", required=True, help="http(s) base URL of the line's server")
    c.set_defaults(handler=h["lines_configure"])
    c = lines.add_parser("limits", help="the line's daily limits")
    c.add_argument("id", type=h["_uuid"], help="the line request id")
    c.add_argument("--new-conversations", type=h["_nonneg"],
                   help="new conversations a day (default: unchanged)")  # fmt: skip
    c.add_argument("--total-messages", type=h["_nonneg"],
                   help="messages a day (default: unchanged)")  # fmt: skip
    c.set_defaults(handler=h["lines_limits"])

    sandbox = sub.add_parser("sandbox", help="the sandbox line server").add_subparsers(
        dest="sandbox", required=True, metavar="ACTION", help="what to change"
    )
    c = sandbox.add_parser("line", help="make a sandbox line report down or iMessage off")
    c.add_argument("id", type=h["_uuid"], help="the line request id")
    updown = c.add_mutually_exclusive_group()
    updown.add_argument("--up", dest="up", action="store_true", default=None,
                        help="report the line up (default: unchanged)")  # fmt: skip
    updown.add_argument("--down", dest="up", action="store_false",
                        help="report the line down (default: unchanged)")  # fmt: skip
    c.add_argument("--imessage", choices=["available", "unavailable"],
                   help="what the iMessage status reports (default: unchanged)")  # fmt: skip
    c.set_defaults(handler=h["sandbox_line"])

    c = sub.add_parser("audit", help="a request's history and state, or `audit verify`")
    c.add_argument("target", help="a line request id, or `verify` to replay everything")
    c.add_argument("--as-of", help="the state at this ISO time (default: now)")
    c.add_argument("--json", action="store_true", help="print JSON (default: text)")
    c.set_defaults(handler=h["audit"])

    proj = sub.add_parser("projections", help="the read models: rebuild, status"
                          ).add_subparsers(dest="projections", required=True, metavar="ACTION",
                                           help="what to do with the projections")  # fmt: skip
    c = proj.add_parser("rebuild", help="replay from position 0 and swap in, no downtime")
    c.add_argument("name", nargs="?", help="the projection (default: all, i.e. lines)")
    c.set_defaults(handler=h["projections_rebuild"])
    proj.add_parser("status", help="position, head, lag and what is set aside").set_defaults(
        handler=h["projections_status"]
    )
    add_webhook_parsers(sub, h)
    return p
