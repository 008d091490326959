"""The outbox of outbound status webhooks: a projection that follows the event log by
position, with its own tracked position, and turns each committed state change of a line
request into one delivery row per enabled endpoint of its workspace.

Rows and position are written in one transaction under the projection's lock (as
`projections.runner` does), so a restart resumes where the last commit left off and no
event is enqueued twice (a delivery's id is derived from endpoint and position, and a
second insert of it is a no-op). Only committed events are in the log, so nothing goes out
before its commit. A request whose events cannot be folded is set aside (like the read
model's, `projections.set_aside`) and re-folded later, and the rest of the log goes on."""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from adapters.schema import webhook_deliveries, webhook_endpoints
from adapters.webhook_store import OUTBOX
from application.ports import Clock
from application.views import LineView, view_of
from application.webhooks import message_body
from domain.webhooks import EVENT_TYPES, DeliveryStatus
from projections import set_aside
from projections.runner import read_position, try_lock_projection, write_position
from projections.schema import set_aside as set_aside_table

log = logging.getLogger(__name__)
PREFIX = "domain.line_request:LineRequest."
NAMESPACE = uuid.UUID("5b0f4c1e-8d8e-4a55-9d3c-7f0a3d3e6b21")
Render = Callable[[LineView], dict[str, Any]]


class Log(Protocol):
    def rows(self, conn: Connection, after: int, limit: int) -> Sequence[Any]: ...

    def decode(self, row: Any) -> Any: ...

    def head(self, conn: Connection) -> int: ...

    def history(
        self, conn: Connection, aggregate_id: UUID, before_version: int | None = None
    ) -> list[tuple[int, Any]]: ...


def delivery_id(endpoint_id: str, position: int) -> str:
    return "msg_" + uuid.uuid5(NAMESPACE, f"{endpoint_id}:{position}").hex


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class WebhookOutbox:
    def __init__(
        self,
        log: Log,
        write_engine: Engine,
        read_engine: Engine,
        render: Render,
        clock: Clock,
        batch: int = 1000,
        cache: int = 20_000,
        retry_every: float = 1.0,
    ) -> None:
        self.log = log
        self.write_engine = write_engine
        self.read_engine = read_engine
        self.render = render
        self.clock = clock
        self.batch = batch
        self.cache_size = cache
        self.retry_every = retry_every
        self._workspace_of: OrderedDict[UUID, str] = OrderedDict()
        self._last_retry = 0.0

    def position(self) -> int:
        with self.read_engine.connect() as conn:
            return read_position(conn, OUTBOX) or 0

    def catch_up(self) -> int:
        """Enqueue every state change up to the log's head; returns the position reached
        (less when another process is advancing the outbox right now)."""
        with self.read_engine.connect() as conn:
            reached, head = read_position(conn, OUTBOX) or 0, self.log.head(conn)
        while reached < head:
            with self.write_engine.begin() as conn:
                if not try_lock_projection(conn, OUTBOX):
                    return reached
                reached, count = self._advance(conn)
            if count < self.batch:
                break
        if time.monotonic() - self._last_retry >= self.retry_every:
            self._last_retry = time.monotonic()
            self._retry_set_aside()
        return reached

    def _advance(self, conn: Connection) -> tuple[int, int]:
        start = read_position(conn, OUTBOX) or 0
        rows = self.log.rows(conn, start, self.batch)
        if not rows:
            return start, 0
        targets = self._targets(conn)
        if targets:
            aside = set_aside.ids(conn, OUTBOX)
            groups: dict[UUID, list[Any]] = {}
            for row in rows:
                if row.topic.startswith(PREFIX):
                    groups.setdefault(_uuid(row.originator_id), []).append(row)
            deliveries: list[dict[str, Any]] = []
            for aggregate_id, group in groups.items():
                if str(aggregate_id) not in aside:
                    deliveries += self._enqueue(conn, aggregate_id, group, targets)
            self._insert(conn, deliveries)
        last = int(rows[-1].id)
        write_position(conn, OUTBOX, last)
        return last, len(rows)

    def _targets(self, conn: Connection) -> dict[str, list[str]]:
        """Enabled endpoints by workspace, as of this transaction."""
        query = select(webhook_endpoints.c.workspace_id, webhook_endpoints.c.id).where(
            webhook_endpoints.c.disabled_at.is_(None)
        )
        targets: dict[str, list[str]] = {}
        for r in conn.execute(query):
            targets.setdefault(r.workspace_id, []).append(r.id)
        return targets

    def _enqueue(
        self, conn: Connection, aggregate_id: UUID, group: list[Any], targets: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        first = group[0]
        try:
            workspace = self._workspace_of.get(aggregate_id)
            prior: list[tuple[int, Any]] | None = None
            if workspace is None and first.originator_version == 1:
                workspace = self.log.decode(first).workspace_id
            if workspace is None:
                prior = self.log.history(conn, aggregate_id, first.originator_version)
                workspace = self._fold(prior).workspace_id
            self._remember(aggregate_id, str(workspace))
            if workspace not in targets:
                return []
            if prior is None:
                prior = self.log.history(conn, aggregate_id, first.originator_version)
            events = [(int(r.id), self.log.decode(r)) for r in group]
            return self._messages(prior, events, 0, targets[str(workspace)])
        except Exception as exc:  # noqa: BLE001 (isolation: set aside, logged, retried)
            log.error("webhook outbox sets request %s aside: %r", aggregate_id, exc)
            set_aside.put(conn, OUTBOX, str(aggregate_id), int(first.id), first.topic, repr(exc))
            return []

    def _fold(self, history: list[tuple[int, Any]]) -> Any:
        agg: Any = None
        for _, event in history:
            agg = event.mutate(agg)
        return agg

    def _messages(
        self,
        prior: list[tuple[int, Any]],
        events: list[tuple[int, Any]],
        since: int,
        endpoints: list[str],
    ) -> list[dict[str, Any]]:
        """Fold `prior`, then each event; every state change at a position ≥ `since`
        becomes one delivery per endpoint, with the LINE view as of that event (an
        included request's Requested has no state until its ProvisioningStarted, saved in
        the same commit: its message shows the line as of that commit)."""
        agg = self._fold(prior)
        waiting: list[tuple[int, Any, str]] = []
        out: list[dict[str, Any]] = []
        for position, event in events:
            agg = event.mutate(agg)
            kind = EVENT_TYPES.get(type(event).__name__)
            if kind is not None and position >= since:
                waiting.append((position, event, kind))
            if agg.state is None or not waiting:
                continue
            line = self.render(view_of(agg))
            for at, ev, kind in waiting:
                data = {
                    "requestId": str(agg.id), "workspaceId": agg.workspace_id,
                    "status": agg.state_name if at == position else "requested",
                    "sequence": at, "line": line,
                }  # fmt: skip
                body = message_body(kind, ev.timestamp, data).decode()
                out += [self._row(endpoint, at, kind, agg, body) for endpoint in endpoints]
            waiting.clear()
        return out

    def _row(self, endpoint: str, position: int, kind: str, agg: Any, body: str) -> dict[str, Any]:
        now = self.clock.now()
        return {
            "id": delivery_id(endpoint, position), "endpoint_id": endpoint,
            "workspace_id": agg.workspace_id, "position": position, "event_type": kind,
            "request_id": str(agg.id), "payload": body,
            "status": DeliveryStatus.PENDING.value, "attempts": 0,
            "created_at": now, "next_attempt_at": now,
        }  # fmt: skip

    def _insert(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(webhook_deliveries).on_conflict_do_nothing(
            index_elements=["endpoint_id", "position"]
        )
        conn.execute(stmt, rows)

    def _remember(self, aggregate_id: UUID, workspace: str) -> None:
        self._workspace_of[aggregate_id] = workspace
        self._workspace_of.move_to_end(aggregate_id)
        while len(self._workspace_of) > self.cache_size:
            self._workspace_of.popitem(last=False)

    def _retry_set_aside(self) -> None:
        """Re-fold what was set aside and is due, from its whole history, enqueueing the
        state changes from its first position not enqueued."""
        with self.write_engine.begin() as conn:
            if not try_lock_projection(conn, OUTBOX):
                return
            reached = read_position(conn, OUTBOX) or 0
            targets = self._targets(conn)
            for aggregate_id in set_aside.due(conn, OUTBOX, datetime.now(UTC)):
                since = conn.execute(
                    select(set_aside_table.c.position).where(
                        set_aside_table.c.name == OUTBOX,
                        set_aside_table.c.aggregate_id == aggregate_id,
                    )
                ).scalar_one()
                try:
                    history = self.log.history(conn, UUID(aggregate_id))
                    upto = [pe for pe in history if pe[0] <= reached]
                    workspace = self._fold(upto).workspace_id
                    rows = self._messages([], upto, since, targets.get(workspace, []))
                    with conn.begin_nested():
                        self._insert(conn, rows)
                except Exception as exc:  # noqa: BLE001 (isolation: set aside, logged, retried)
                    set_aside.retry_failed(conn, OUTBOX, aggregate_id, repr(exc))
                    continue
                set_aside.release(conn, OUTBOX, aggregate_id)
                log.info("webhook outbox: request %s is back", aggregate_id)
