"""Filling a store fast: real domain events, bulk-inserted with the library's recorder.

The HTTP API would take hours to write a million events here, so the filler builds one real
line history per workspace with the aggregates themselves (the workspace admits a line; the
request is Requested, ProvisioningStarted and Activated), encodes it with the application's
mapper, and clones those stored events for every further line with fresh ids (the one id
inside a state, LineAdmitted's request_id, is substituted). Every stored event therefore
decodes to a genuine domain event; the projection and the aggregates cannot tell them apart
from events written through the API. A big workspace gets the snapshot the application
would have taken (every 100 events), so it loads the way it would in production.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from api.bootstrap import Services
from bench.common import Store
from domain.enums import Billing, Channel, LineType, Plan, RequestSource
from domain.line_request import LineRequest
from domain.workspace import Workspace

EVENTS_PER_LINE = 4  # LineAdmitted + Requested + ProvisioningStarted + Activated
EVENTS_PER_WORKSPACE = 2  # Created + OverrideSet
FILLER_LINES_PER_WORKSPACE = 1_000
BATCH = 10_000


@dataclass
class FillResult:
    events: int = 0
    seconds: float = 0.0
    line_ids: dict[str, list[UUID]] = field(default_factory=dict)  # only for small workspaces

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass
class Template:
    """One real workspace with one real line, as stored events."""

    head: list[StoredEvent]  # Created, OverrideSet
    admitted: StoredEvent  # the workspace's LineAdmitted for the template line
    request: list[StoredEvent]  # Requested, ProvisioningStarted, Activated
    line_id: UUID


def line_template(services: Services, workspace_id: str) -> Template:
    mapper = services.app.mapper
    now = datetime.now(UTC)
    ws = Workspace(
        workspace_id=workspace_id, name=workspace_id, plan=Plan.GROWTH, subscription_active=True
    )
    ws.set_override(Channel.PHONE, 10**9, None)
    head = [mapper.to_stored_event(e) for e in ws.collect_events()]
    line_id = uuid4()
    ws.admit(line_id, Channel.PHONE)
    req = LineRequest(
        id=line_id,
        workspace_id=workspace_id,
        channel=Channel.PHONE,
        line_type=LineType.PURCHASED,
        first_name="Bench",
        last_name="Filler",
        email=None,
        phone=None,
        billing=Billing.INCLUDED,
        price_amount=None,
        currency=None,
        source=RequestSource.API,
        idempotency_key=None,
        fingerprint="0" * 64,
        daily_new_conversations_limit=20,
        daily_total_messages_limit=150,
    )
    req.start_provisioning(now)
    req.activate(phone="+12025550100", email=None, provider_ref="bench")
    (admitted,) = [mapper.to_stored_event(e) for e in ws.collect_events()]
    request = [mapper.to_stored_event(e) for e in req.collect_events()]
    return Template(head, admitted, request, line_id)


def _workspace_stream(
    services: Services, workspace_id: str, lines: int, keep_ids: bool, result: FillResult
) -> Iterator[StoredEvent]:
    t = line_template(services, workspace_id)
    yield from t.head
    old = t.line_id.hex.encode()
    ids: list[UUID] = []
    for n in range(lines):
        rid = t.line_id if n == 0 else uuid4()
        if keep_ids:
            ids.append(rid)
        yield StoredEvent(
            t.admitted.originator_id,
            EVENTS_PER_WORKSPACE + 1 + n,
            t.admitted.topic,
            t.admitted.state.replace(old, rid.hex.encode()),
        )
        for e in t.request:
            yield StoredEvent(rid, e.originator_version, e.topic, e.state)
    if keep_ids:
        result.line_ids[workspace_id] = ids


class _Writer:
    """Plain executemany INSERTs into the application's events table, a transaction per
    batch, with the event store's own driver (the library's PostgreSQL recorder inserts
    through an array of composite values, which ran at a sixth of this rate here)."""

    def __init__(self, store: Store) -> None:
        self.conn = store.raw_connect()
        self.sqlite = store.backend == "sqlite"
        mark = "?" if self.sqlite else "%s"
        self.sql = (
            f"INSERT INTO {store.events_table} (originator_id, originator_version, topic, state)"
            f" VALUES ({mark}, {mark}, {mark}, {mark})"
        )

    def write(self, batch: list[StoredEvent]) -> None:
        if self.sqlite:  # the library's SQLite recorder stores UUIDs as hex text
            rows: list[tuple[object, ...]] = [
                (e.originator_id.hex, e.originator_version, e.topic, e.state) for e in batch
            ]
            self.conn.execute("BEGIN")
            self.conn.executemany(self.sql, rows)
            self.conn.execute("COMMIT")
        else:
            rows = [(e.originator_id, e.originator_version, e.topic, e.state) for e in batch]
            with self.conn.cursor() as cur:
                cur.executemany(self.sql, rows)
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def fill(
    services: Services, store: Store, plan: list[tuple[str, int]], keep_ids_below: int = 1_000
) -> FillResult:
    """Write (workspace id, lines) workspaces, in log order; snapshot big workspaces."""
    result = FillResult()
    writer = _Writer(store)
    started = time.perf_counter()
    batch: list[StoredEvent] = []
    try:
        for workspace_id, lines in plan:
            for stored in _workspace_stream(
                services, workspace_id, lines, lines < keep_ids_below, result
            ):
                batch.append(stored)
                if len(batch) >= BATCH:
                    writer.write(batch)
                    result.events += len(batch)
                    batch = []
        if batch:
            writer.write(batch)
            result.events += len(batch)
    finally:
        writer.close()
    interval = services.app.snapshotting_intervals[Workspace]
    for workspace_id, lines in plan:
        version = EVENTS_PER_WORKSPACE + lines
        if version >= interval:
            ws_id = Workspace.create_id(workspace_id)
            services.app.take_snapshot(ws_id, version=version - version % interval)
    result.seconds = time.perf_counter() - started
    return result


def filler_plan(
    total_events: int, fixed: list[tuple[str, int]], prefix: str
) -> list[tuple[str, int]]:
    """`fixed` workspaces last (the newest in the log), preceded by filler workspaces of
    FILLER_LINES_PER_WORKSPACE lines that bring the log to about `total_events`."""
    used = sum(EVENTS_PER_WORKSPACE + EVENTS_PER_LINE * n for _, n in fixed)
    remaining = max(0, total_events - used)
    plan: list[tuple[str, int]] = []
    i = 0
    while remaining > EVENTS_PER_WORKSPACE + EVENTS_PER_LINE:
        lines = min(
            FILLER_LINES_PER_WORKSPACE, (remaining - EVENTS_PER_WORKSPACE) // EVENTS_PER_LINE
        )
        plan.append((f"{prefix}{i:05d}", lines))
        remaining -= EVENTS_PER_WORKSPACE + EVENTS_PER_LINE * lines
        i += 1
    return plan + fixed
