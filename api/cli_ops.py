"""`tuco audit` and `tuco projections`: replay, verify, rebuild, status."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from uuid import UUID

import msgspec
import orjson

from api import render
from api.bootstrap import Services
from api.cli_progress import progress
from domain.errors import InvalidValue
from projections.rebuild import TARGETS, Progress, RebuildRunning


def _as_of(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue("--as-of", f"--as-of must be an ISO time, not {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def audit(s: Services, a: argparse.Namespace) -> int:
    if a.target == "verify":
        return audit_verify(s)
    try:
        request_id = UUID(a.target)
    except ValueError:
        print(f"error: not a line request id: {a.target!r}", file=sys.stderr)
        return 2
    trail = s.audit.trail(request_id, _as_of(a.as_of))
    events = [msgspec.to_builtins(render.event(e)) for e in trail.events]
    if a.json:
        sys.stdout.write(orjson.dumps({"events": events, "state": trail.state}).decode() + "\n")
        return 0
    for e in events:
        fields = ", ".join(f"{k}={v}" for k, v in e["data"].items())
        print(f"v{e['version']:<3} {e['timestamp']}  {e['type']:<20} {fields}")
    if trail.state is None:
        print("state: (the request did not exist yet)")
        return 0
    print(
        f"state: {trail.state['state']} (payment {trail.state['payment_status']}, "
        f"version {trail.state['version']})"
    )
    return 0


def audit_verify(s: Services) -> int:
    s.read_model.catch_up()
    units = {"log": "positions read", "rows": "rows compared"}
    with progress() as report_progress:
        report = s.audit.verify(
            lambda phase, done, total: report_progress(f"verify {phase}", done, total,
                                                       units[phase])
        )  # fmt: skip
    for line in report.mismatches:
        print(f"mismatch: {line}")
    print(
        f"verified {report.requests} requests ({report.events} events) against "
        f"{report.rows} read-model rows: {len(report.mismatches)} mismatches"
    )
    return 1 if report.mismatches else 0


def projections_rebuild(s: Services, a: argparse.Namespace) -> int:
    if a.name is not None and a.name not in TARGETS:
        known = ", ".join(TARGETS)
        print(f"error: no projection is named {a.name!r}; known: {known}", file=sys.stderr)
        return 2
    for name in [a.name] if a.name else list(TARGETS):
        started = datetime.now(UTC)
        try:
            with progress() as report_progress:

                def report(p: Progress, name: str = name) -> None:
                    eta = "-" if p.eta_seconds == float("inf") else f"{p.eta_seconds:.0f}s"
                    detail = f"{p.rate:.0f} events/s, eta {eta}"
                    report_progress(name, p.done, p.head, "events", detail)

                position = s.rebuilder(name).rebuild(report)
        except RebuildRunning as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        seconds = (datetime.now(UTC) - started).total_seconds()
        print(
            f"rebuilt {name} up to position {position} in {seconds:.1f} s "
            f"({position / max(seconds, 1e-9):.0f} events/s)"
        )
    return 0


def projections_status(s: Services, a: argparse.Namespace) -> int:
    """Position, head and lag of each projection, and what each has set aside."""
    statuses = s.read_model.status()
    print(f"{'projection':<12} {'position':>10} {'head':>10} {'lag':>8} {'set aside':>10}")
    for st in statuses:  # advanced together, in one transaction, by one runner
        lag = st.head - st.position
        print(f"{st.name:<12} {st.position:>10} {st.head:>10} {lag:>8} {len(st.set_aside):>10}")
    for st in statuses:
        for item in st.set_aside:
            print(
                f"set aside: {st.name} {item.aggregate_id} from position {item.position} "
                f"({item.topic}), {item.attempts} attempts since "
                f"{item.first_failed_at.isoformat()}: {item.error}"
            )
    return 0


HANDLERS = {
    "audit": audit,
    "projections_rebuild": projections_rebuild,
    "projections_status": projections_status,
}
