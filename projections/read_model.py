"""The SQL read model behind the application's queries."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError

from application.errors import ServiceBusy
from application.listing import LinePage, LineQuery
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
from domain.errors import InvalidValue
from projections.follower import Follower
from projections.runner import ProjectionRunner, read_position
from projections.schema import line_usage, line_views, set_aside

log = logging.getLogger(__name__)

v = line_views.c
PERIODIC = {WorkKind.RECONCILE, WorkKind.HEALTH_CHECK}
u = line_usage.c


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _moment(value: Any) -> datetime | None:
    """A stored time: a datetime (PostgreSQL) or its ISO text (SQLite), always UTC."""
    if value is None:
        return None
    return _utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


# The columns a view needs, in the order `to_view` reads them. Selected with text() so the
# rows come back as the driver gives them: the per-value processing of typed columns cost
# several times the query itself.
VIEW_COLUMNS = (
    "id", "workspace_id", "first_name", "last_name", "phone", "email", "state",
    "payment_status", "billing", "source", "channel", "line_type", "payment_url", "invoice_id",
    "daily_new_conversations_limit", "daily_total_messages_limit", "created_at", "updated_at",
    "version", "server_url", "health_status", "health_checked_at",
    *(f"owes_{k.value}" for k in WorkKind),
)  # fmt: skip
SELECT_VIEWS = (
    "SELECT "
    + ", ".join(f"v.{c}" for c in VIEW_COLUMNS)
    + ", u.new_conversations, u.total_messages FROM line_views v LEFT OUTER JOIN line_usage u"
    " ON u.line_id = v.id AND u.day = :day"
)
_STATE = {m.value: m for m in LineState}
_PAYMENT = {m.value: m for m in PaymentStatus}
_BILLING = {m.value: m for m in Billing}
_SOURCE = {m.value: m for m in RequestSource}
_CHANNEL = {m.value: m for m in Channel}
_LINE_TYPE = {m.value: m for m in LineType}
_HEALTH = {m.value: m for m in HealthStatus}
_KINDS = tuple(WorkKind)
_OWED_END = 22 + len(_KINDS)  # the owed flags follow the 22 columns of the view


def to_view(r: Sequence[Any], day: date | None = None) -> LineView:
    """A row of SELECT_VIEWS as a view."""
    return LineView(
        id=UUID(r[0]),
        workspace_id=r[1],
        first_name=r[2],
        last_name=r[3],
        phone=r[4],
        email=r[5],
        state=_STATE[r[6]],
        payment_status=_PAYMENT[r[7]],
        billing=_BILLING[r[8]],
        source=_SOURCE[r[9]],
        channel=_CHANNEL[r[10]],
        line_type=_LINE_TYPE[r[11]],
        payment_url=r[12],
        invoice_id=r[13],
        daily_new_conversations_limit=r[14],
        daily_total_messages_limit=r[15],
        created_at=_moment(r[16]),  # type: ignore[arg-type]
        updated_at=_moment(r[17]),  # type: ignore[arg-type]
        version=r[18],
        server_url=r[19],
        health_status=_HEALTH[r[20]] if r[20] else None,
        health_checked_at=_moment(r[21]),
        owed=frozenset(k for k, flag in zip(_KINDS, r[22:_OWED_END], strict=True) if flag),
        usage_date=day,
        usage_new_conversations=r[_OWED_END] or 0,
        usage_total_messages=r[_OWED_END + 1] or 0,
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

    def wait_for(self, position: int | None = None, timeout: float = 5.0) -> bool:
        try:
            goal = self.runner.head() if position is None else position
            if self.follower.wait_for(goal, timeout):
                return True
        except OperationalError as e:
            raise ServiceBusy(f"The read model is unavailable: {e.orig}") from e
        log.warning("read model is behind position %d; answering from what it has", goal)
        return False

    def caught_up(self) -> bool:
        try:
            head = self.runner.head()
        except OperationalError as e:
            raise ServiceBusy(f"The read model is unavailable: {e.orig}") from e
        return self.follower.reached >= head or self.runner.position() >= head

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

    def _rows(self, query: Any, **params: Any) -> list[Any]:
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(query, params))
        except OperationalError as e:
            raise ServiceBusy(f"The read model is unavailable: {e.orig}") from e

    def _views(self, where: str, order: str = "", **params: Any) -> list[LineView]:
        """Rows matching `where` (SQL over `v`), with today's (UTC, by the clock) usage."""
        day = self.clock.now().date()
        query = text(f"{SELECT_VIEWS} WHERE {where} {order}")
        return [to_view(r, day) for r in self._rows(query, day=day.isoformat(), **params)]

    def get_line(self, workspace_id: str, request_id: UUID) -> LineView | None:
        found = self._views("v.id = :id AND v.workspace_id = :ws", id=str(request_id),
                            ws=workspace_id)  # fmt: skip
        return found[0] if found else None

    def find_line(self, request_id: UUID) -> LineView | None:
        found = self._views("v.id = :id", id=str(request_id))
        return found[0] if found else None

    def list_lines(self, workspace_id: str) -> list[LineView]:
        return self._views("v.workspace_id = :ws", "ORDER BY v.seq DESC", ws=workspace_id)

    def page_lines(self, workspace_id: str, query: LineQuery) -> LinePage:
        where, params = ["v.workspace_id = :ws"], {"ws": workspace_id}
        if query.starting_after is not None:
            after = str(query.starting_after)
            seq = self._rows(select(v.seq).where(v.id == after, v.workspace_id == workspace_id))
            if not seq:
                raise InvalidValue(
                    "starting_after", "starting_after is not a line request of this workspace."
                )
            where.append("v.seq < :before")
            params["before"] = seq[0].seq
        if query.state is not None:
            where.append("v.state = :state")
            params["state"] = query.state.value
        if query.channel is not None:
            where.append("v.channel = :channel")
            params["channel"] = query.channel.value
        order = "ORDER BY v.seq DESC"
        if query.limit is not None:
            order += f" LIMIT {int(query.limit) + 1}"  # one more: is there a next page?
        views = self._views(" AND ".join(where), order, **params)
        if query.limit is not None and len(views) > query.limit:
            return LinePage(views[: query.limit], has_more=True)
        return LinePage(views, has_more=False)

    def iter_lines(self, batch: int = 1000) -> Iterator[LineView]:
        after = ""
        while True:
            views = self._views("v.id > :after", f"ORDER BY v.id LIMIT {int(batch)}", after=after)
            yield from views
            if len(views) < batch:
                return
            after = str(views[-1].id)

    def pending_work(self, limit: int, periodic: set[WorkKind] | None = None) -> list[WorkItem]:
        kinds = [k for k in WorkKind if k not in PERIODIC or k in (periodic or set())]
        items: list[WorkItem] = []
        for kind in kinds:
            flag = line_views.c[f"owes_{kind.value}"]
            query = select(v.id, v.workspace_id).where(flag.is_(True)).order_by(v.seq).limit(limit)
            items += [WorkItem(kind, UUID(r.id), r.workspace_id) for r in self._rows(query)]
        return items

    def backlog(self) -> dict[WorkKind, int]:
        """How many requests owe each kind of step now (for /metrics; periodic sweeps
        excluded: every open invoice or active line "owes" one)."""
        counts: dict[WorkKind, int] = {}
        for kind in WorkKind:
            if kind in PERIODIC:
                continue
            flag = line_views.c[f"owes_{kind.value}"]
            rows = self._rows(select(func.count()).select_from(line_views).where(flag.is_(True)))
            counts[kind] = int(rows[0][0])
        return counts
