"""The SQL read model behind the application's queries."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, select
from sqlalchemy.exc import OperationalError

from application.errors import ServiceBusy
from application.ports import Clock
from application.views import (
    LineView,
    ProjectionStatus,
    ReadModel,
    SetAside,
    WorkItem,
    WorkKind,
)
from domain.enums import (
    Billing,
    Channel,
    HealthStatus,
    LineState,
    LineType,
    PaymentStatus,
    RequestSource,
)
from projections.follower import Follower
from projections.runner import ProjectionRunner, read_position
from projections.schema import line_usage, line_views, set_aside

log = logging.getLogger(__name__)

v = line_views.c
PERIODIC = {WorkKind.RECONCILE, WorkKind.HEALTH_CHECK}
u = line_usage.c


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_view(r: Any, day: date | None = None) -> LineView:
    mapping = r._mapping
    return LineView(
        id=UUID(r.id),
        workspace_id=r.workspace_id,
        first_name=r.first_name,
        last_name=r.last_name,
        phone=r.phone,
        email=r.email,
        state=LineState(r.state),
        payment_status=PaymentStatus(r.payment_status),
        billing=Billing(r.billing),
        source=RequestSource(r.source),
        channel=Channel(r.channel),
        line_type=LineType(r.line_type),
        payment_url=r.payment_url,
        invoice_id=r.invoice_id,
        daily_new_conversations_limit=r.daily_new_conversations_limit,
        daily_total_messages_limit=r.daily_total_messages_limit,
        created_at=_utc(r.created_at),
        updated_at=_utc(r.updated_at),
        version=r.version,
        server_url=r.server_url,
        health_status=HealthStatus(r.health_status) if r.health_status else None,
        health_checked_at=_utc(r.health_checked_at) if r.health_checked_at else None,
        owed=frozenset(k for k in WorkKind if mapping.get(f"owes_{k.value}")),
        usage_date=day,
        usage_new_conversations=mapping.get("usage_new") or 0,
        usage_total_messages=mapping.get("usage_total") or 0,
    )


class SqlReadModel(ReadModel):
    def __init__(
        self,
        runner: ProjectionRunner,
        follower: Follower,
        read_engine: Engine,
        clock: Clock,
        parts: list[str],
    ) -> None:
        self.runner = runner
        self.follower = follower
        self.engine = read_engine
        self.clock = clock
        self.parts = parts

    def _with_usage(self, day: date) -> Any:
        joined = line_views.outerjoin(line_usage, and_(u.line_id == v.id, u.day == day.isoformat()))
        return select(
            line_views,
            u.new_conversations.label("usage_new"),
            u.total_messages.label("usage_total"),
        ).select_from(joined)

    def wait_for(self, position: int | None = None, timeout: float = 5.0) -> bool:
        try:
            goal = self.runner.head() if position is None else position
            if self.follower.wait_for(goal, timeout):
                return True
        except OperationalError as e:
            raise ServiceBusy(f"The read model is unavailable: {e.orig}") from e
        log.warning("read model is behind position %d; answering from what it has", goal)
        return False

    def catch_up(self) -> int:
        """Apply everything logged so far, in this thread (CLI and tests)."""
        return self.follower.pass_once()

    def usage(self, request_id: UUID, day: date) -> tuple[int, int]:
        query = select(u.new_conversations, u.total_messages).where(
            u.line_id == str(request_id), u.day == day.isoformat()
        )
        rows = self._rows(query)
        return (rows[0].new_conversations, rows[0].total_messages) if rows else (0, 0)

    def status(self) -> list[ProjectionStatus]:
        t = set_aside.c
        with self.engine.connect() as conn:
            head = self.runner.log.head(conn)
            position = read_position(conn, self.runner.name) or 0
            aside = conn.execute(select(set_aside).order_by(t.position)).all()
        return [
            ProjectionStatus(
                name=name,
                position=position,
                head=head,
                set_aside=[
                    SetAside(r.aggregate_id, r.position, r.topic, r.error, r.attempts,
                             _utc(r.first_failed_at))
                    for r in aside
                    if r.name == name
                ],
            )
            for name in self.parts
        ]  # fmt: skip

    def _rows(self, query: Any) -> list[Any]:
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(query))
        except OperationalError as e:
            raise ServiceBusy(f"The read model is unavailable: {e.orig}") from e

    def _views(self, *where: Any, newest_first: bool = False) -> list[LineView]:
        """Rows matching `where`, with today's (UTC, by the clock) usage."""
        day = self.clock.now().date()
        query = self._with_usage(day).where(*where)
        if newest_first:
            query = query.order_by(v.seq.desc())
        return [to_view(r, day) for r in self._rows(query)]

    def get_line(self, workspace_id: str, request_id: UUID) -> LineView | None:
        found = self._views(v.id == str(request_id), v.workspace_id == workspace_id)
        return found[0] if found else None

    def find_line(self, request_id: UUID) -> LineView | None:
        found = self._views(v.id == str(request_id))
        return found[0] if found else None

    def list_lines(self, workspace_id: str) -> list[LineView]:
        return self._views(v.workspace_id == workspace_id, newest_first=True)

    def iter_lines(self, batch: int = 1000) -> Iterator[LineView]:
        after = ""
        while True:
            query = select(line_views).where(v.id > after).order_by(v.id).limit(batch)
            rows = self._rows(query)
            yield from (to_view(r) for r in rows)
            if len(rows) < batch:
                return
            after = rows[-1].id

    def pending_work(self, limit: int, periodic: set[WorkKind] | None = None) -> list[WorkItem]:
        kinds = [k for k in WorkKind if k not in PERIODIC or k in (periodic or set())]
        items: list[WorkItem] = []
        for kind in kinds:
            flag = line_views.c[f"owes_{kind.value}"]
            query = select(v.id, v.workspace_id).where(flag.is_(True)).order_by(v.seq).limit(limit)
            items += [WorkItem(kind, UUID(r.id), r.workspace_id) for r in self._rows(query)]
        return items
