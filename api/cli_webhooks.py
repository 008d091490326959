"""`tuco webhooks`: a workspace's outbound status webhook endpoints and their deliveries."""

from __future__ import annotations

import argparse
from typing import Any

from api.bootstrap import Services
from application.webhooks import Delivery, Endpoint
from domain.webhooks import DeliveryStatus


def _when(value: Any) -> str:
    return value.isoformat() if value is not None else "-"


def _endpoint_line(e: Endpoint) -> str:
    line = f"{e.id}  {e.status.value:<8}  {e.url}  created {_when(e.created_at)}"
    if e.disabled_reason:
        line += f"  ({e.disabled_reason})"
    elif e.failing_since:
        line += f"  failing since {_when(e.failing_since)}"
    return line


def webhooks_add(s: Services, a: argparse.Namespace) -> int:
    s.workspaces.get(a.workspace_id)  # the workspace must exist
    endpoint, secret = s.webhooks.add(a.workspace_id, a.url)
    print(f"webhook endpoint {endpoint.id} for {a.workspace_id}: {endpoint.url}")
    print("signing secret (shown once; store it now):")
    print(secret)
    return 0


def webhooks_list(s: Services, a: argparse.Namespace) -> int:
    found = s.webhooks.list(a.workspace_id)
    for e in found:
        print(_endpoint_line(e))
    if not found:
        print(f"workspace {a.workspace_id} has no webhook endpoints")
    return 0


def webhooks_remove(s: Services, a: argparse.Namespace) -> int:
    s.webhooks.remove(a.workspace_id, a.endpoint_id)
    print(f"webhook endpoint {a.endpoint_id} removed")
    return 0


def webhooks_enable(s: Services, a: argparse.Namespace) -> int:
    e = s.webhooks.enable(a.workspace_id, a.endpoint_id)
    print(f"webhook endpoint {e.id}: {e.status.value}")
    return 0


def webhooks_test(s: Services, a: argparse.Namespace) -> int:
    results = s.webhooks.test(a.workspace_id, a.endpoint)
    if not results:
        print(f"workspace {a.workspace_id} has no enabled webhook endpoints")
        return 1
    for endpoint, result in results:
        print(f"{endpoint.id}  {endpoint.url}  {result.describe()}")
    return 0 if all(r.ok for _, r in results) else 1


def _delivery_line(d: Delivery) -> str:
    code = d.last_status if d.last_status is not None else "-"
    pending = d.status is DeliveryStatus.PENDING
    return (
        f"{d.id}  {d.status.value:<9}  {d.event_type:<34}  request {d.request_id}  "
        f"endpoint {d.endpoint_id}  attempts {d.attempts}  last {code}  "
        f"next {_when(d.next_attempt_at) if pending else '-'}  "
        f"error {d.last_error or '-'}"
    )


def webhooks_deliveries(s: Services, a: argparse.Namespace) -> int:
    status = DeliveryStatus(a.status) if a.status else None
    for d in s.webhooks.deliveries(a.workspace_id, a.limit, status):
        print(_delivery_line(d))
    return 0


def webhooks_redeliver(s: Services, a: argparse.Namespace) -> int:
    d = s.webhooks.redeliver(a.delivery_id)
    print(f"delivery {d.id}: {d.status.value}, due {_when(d.next_attempt_at)}")
    return 0


HANDLERS = {name: fn for name, fn in globals().items() if name.startswith("webhooks_")}


def add_parsers(sub: Any, h: dict[str, Any]) -> None:
    """`tuco webhooks …` under the top-level subparsers `sub`."""
    group = sub.add_parser("webhooks", help="outbound status webhooks of a workspace")
    hooks = group.add_subparsers(
        dest="webhooks", required=True, metavar="ACTION", help="what to do with them"
    )
    c = hooks.add_parser("add", help="add an endpoint (prints its signing secret once)")
    c.add_argument("workspace_id", help="the workspace's id")
    c.add_argument("url", help="an http(s) URL without credentials")
    c.set_defaults(handler=h["webhooks_add"])
    c = hooks.add_parser("list", help="the workspace's endpoints")
    c.add_argument("workspace_id", help="the workspace's id")
    c.set_defaults(handler=h["webhooks_list"])
    for name, what in (("remove", "remove an endpoint"), ("enable", "enable a disabled endpoint")):
        c = hooks.add_parser(name, help=what)
        c.add_argument("workspace_id", help="the workspace's id")
        c.add_argument("endpoint_id", help="the endpoint's id (we_…)")
        c.set_defaults(handler=h[f"webhooks_{name}"])
    c = hooks.add_parser("test", help="send a signed webhook.test message now")
    c.add_argument("workspace_id", help="the workspace's id")
    c.add_argument("--endpoint", help="only this endpoint (default: every enabled one)")
    c.set_defaults(handler=h["webhooks_test"])
    c = hooks.add_parser("deliveries", help="the delivery log, newest first")
    c.add_argument("workspace_id", help="the workspace's id")
    c.add_argument(
        "--status",
        choices=[x.value for x in DeliveryStatus],
        help="only deliveries with this status (default: all)",
    )
    c.add_argument("--limit", type=h["_limit"], default=50, help="at most this many")
    c.set_defaults(handler=h["webhooks_deliveries"])
    c = hooks.add_parser("redeliver", help="send one delivery again")
    c.add_argument("delivery_id", help="the delivery's id (msg_…, from `deliveries`)")
    c.set_defaults(handler=h["webhooks_redeliver"])
