"""`tuco`: the operators' command line."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Sequence
from uuid import UUID

from sqlalchemy.exc import SQLAlchemyError

from adapters import config_rules
from adapters.config import ConfigError, Settings
from adapters.logs import configure_logging, secrets_of
from api.bootstrap import Services, build
from application.errors import ServiceBusy
from domain import bounds
from domain.enums import Channel, Plan
from domain.errors import DomainError

Handler = Callable[[Services, argparse.Namespace], int]


def _uuid(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a line request id: {raw!r}") from None


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {raw!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, not {raw}")
        return value

    return parse


_nonneg = _bounded(0, bounds.MAX_COUNT)  # what a count column can store
_port = _bounded(1, 65535)
_workers = _bounded(1, 64)
_listed = _bounded(1, 100_000)
_limit = _bounded(1, 1000)


def workspaces_create(s: Services, a: argparse.Namespace) -> int:
    ws = s.workspaces.create(a.id, Plan(a.plan), a.name or a.id, not a.inactive)
    state = "active" if ws.subscription_active else "inactive"
    print(f"workspace {ws.workspace_id} created: plan {ws.plan.value}, subscription {state}")
    return 0


def workspaces_set_plan(s: Services, a: argparse.Namespace) -> int:
    s.workspaces.set_plan(a.id, Plan(a.plan))
    print(f"workspace {a.id}: plan {a.plan}")
    return 0


def workspaces_set_subscription(s: Services, a: argparse.Namespace) -> int:
    s.workspaces.set_subscription(a.id, a.status == "active")
    print(f"workspace {a.id}: subscription {a.status}")
    return 0


def workspaces_override(s: Services, a: argparse.Namespace) -> int:
    ws = s.workspaces.set_override(a.id, Channel(a.channel), a.included, a.max)
    rule = ws.allowance(Channel(a.channel))
    limit = "unlimited" if rule.max is None else rule.max
    print(f"workspace {a.id} {a.channel}: included {rule.included}, max {limit}")
    return 0


def keys_create(s: Services, a: argparse.Namespace) -> int:
    s.workspaces.get(a.workspace_id)  # the workspace must exist
    key = s.keys.create(a.workspace_id)
    print(f"API key for workspace {a.workspace_id} (shown once; store it now):")
    print(key)
    return 0


def keys_list(s: Services, a: argparse.Namespace) -> int:
    for k in s.keys.list(a.workspace_id):
        revoked = k.revoked_at.isoformat() if k.revoked_at else "-"
        print(f"{k.prefix}  created {k.created_at.isoformat()}  revoked {revoked}")
    return 0


def keys_revoke(s: Services, a: argparse.Namespace) -> int:
    count = s.keys.revoke(a.key)
    if count == 0:
        print(f"no active key matches {a.key[:12]!r}", file=sys.stderr)
        return 1
    print(f"revoked {count} key(s)")
    return 0


def lines_activate(s: Services, a: argparse.Namespace) -> int:
    req = s.provisioning.activate(a.id, a.phone, a.email, provider_ref="operator")
    print(f"line request {req.id}: {req.state.value}")
    return 0


def lines_fail(s: Services, a: argparse.Namespace) -> int:
    req = s.provisioning.fail(a.id, a.reason)
    print(f"line request {req.id}: {req.state.value} ({a.reason})")
    return 0


def db_upgrade(s: Services, a: argparse.Namespace) -> int:
    print(f"database ready: {s.database.url.render_as_string(hide_password=True)}")
    return 0


def worker(s: Services, a: argparse.Namespace) -> int:
    stop = threading.Event()
    print("worker running; Ctrl-C stops it", file=sys.stderr)
    s.read_model.follower.start()
    if s.settings.webhook_sender:
        s.outbound.start(s.settings.webhook_interval)  # outbound webhooks
    try:
        s.worker.run_forever(stop, s.settings.worker_interval, s.lease.acquire)
    except KeyboardInterrupt:
        stop.set()
    return 0


def serve(a: argparse.Namespace) -> int:
    import uvicorn

    config_rules.serve_host(a.host, os.environ)
    os.environ.setdefault("TUCO_PUBLIC_URL", f"http://{a.host}:{a.port}")
    os.environ["TUCO_RUN_WORKER"] = "0" if a.no_worker else "1"
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format, secrets_of(settings))
    # Create and migrate every table once, here, so server processes starting together do
    # not race on DDL; this also fails fast on bad configuration.
    services = build(settings)
    max_connections = services.settings.max_connections
    services.close()
    os.environ["TUCO_CREATE_TABLES"] = "0"
    uvicorn.run(
        "api.app:app_factory",
        factory=True,
        host=a.host,
        port=a.port,
        workers=a.workers,
        log_level=settings.log_level.lower(),
        log_config=None,  # our JSON logs (adapters.logs), set up by each process
        access_log=False,  # one line per request comes from api.observe instead
        # Past this many connections and requests in progress (per process) uvicorn answers
        # 503; an idle keep-alive connection is closed after 5 s.
        limit_concurrency=max_connections or None,
        timeout_keep_alive=5,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    from api import cli_lines, cli_ops, cli_webhooks
    from api.cli_parser import build_parser
    from api.version import service_version

    handlers = {**globals(), **cli_ops.HANDLERS, **cli_lines.HANDLERS, **cli_webhooks.HANDLERS}
    return build_parser(handlers, service_version())


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:  # argparse has printed its one line (or the help)
        return e.code if isinstance(e.code, int) else 2
    handler: Handler = args.handler
    try:
        if args.command == "serve":
            return serve(args)
        settings = Settings.from_env({"TUCO_LOG_LEVEL": "WARNING", **os.environ})
        configure_logging(settings.log_level, settings.log_format, secrets_of(settings))
        services = build(settings)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    try:
        return handler(services, args)
    except DomainError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (ServiceBusy, SQLAlchemyError) as e:
        print(f"error: the database is unavailable: {str(e).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        services.close()
