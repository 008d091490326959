"""The SQL read model behind the application's queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, select
from sqlalchemy.exc import OperationalError

from application.errors import ServiceBusy
from application.views import LineView, ReadModel, WorkItem, WorkKind
from domain.enums import Billing, Channel, LineState, LineType, PaymentStatus, RequestSource
from projections.runner import ProjectionRunner
from projections.schema import line_views

v = line_views.c
WORK_FILTERS = {
    WorkKind.INVOICE: and_(v.state == LineState.AWAITING_PAYMENT.value, v.invoice_id.is_(None)),
    WorkKind.VOID: and_(
        v.state == LineState.CANCELED.value,
        v.invoice_id.is_not(None),
        v.invoice_voided.is_(False),
        v.payment_status == PaymentStatus.VOID.value,
    ),
    WorkKind.REFUND: and_(
        v.payment_status == PaymentStatus.PAID.value,
        v.state.in_([LineState.FAILED.value, LineState.CANCELED.value]),
    ),
    WorkKind.PROVISION: v.state == LineState.PROVISIONING.value,
    WorkKind.RECONCILE: and_(
        v.state == LineState.AWAITING_PAYMENT.value, v.invoice_id.is_not(None)
    ),
}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_view(r: Any) -> LineView:
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
    )


class SqlReadModel(ReadModel):
    def __init__(self, runner: ProjectionRunner, read_engine: Engine) -> None:
        self.runner = runner
        self.engine = read_engine

    def catch_up(self, position: int | None = None) -> int:
        try:
            return self.runner.catch_up(position)
        except OperationalError as e:
            raise ServiceBusy(f"The read model is unavailable: {e.orig}") from e

    def _rows(self, query: Any) -> list[Any]:
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(query))
        except OperationalError as e:
            raise ServiceBusy(f"The read model is unavailable: {e.orig}") from e

    def get_line(self, workspace_id: str, request_id: UUID) -> LineView | None:
        rows = self._rows(
            select(line_views).where(v.id == str(request_id), v.workspace_id == workspace_id)
        )
        return to_view(rows[0]) if rows else None

    def list_lines(self, workspace_id: str) -> list[LineView]:
        query = select(line_views).where(v.workspace_id == workspace_id).order_by(v.seq.desc())
        return [to_view(r) for r in self._rows(query)]

    def iter_lines(self, batch: int = 1000) -> Iterator[LineView]:
        after = ""
        while True:
            query = select(line_views).where(v.id > after).order_by(v.id).limit(batch)
            rows = self._rows(query)
            yield from (to_view(r) for r in rows)
            if len(rows) < batch:
                return
            after = rows[-1].id

    def pending_work(self, limit: int, include_reconcile: bool) -> list[WorkItem]:
        kinds = [k for k in WorkKind if include_reconcile or k is not WorkKind.RECONCILE]
        items: list[WorkItem] = []
        for kind in kinds:
            query = (
                select(v.id, v.workspace_id).where(WORK_FILTERS[kind]).order_by(v.seq).limit(limit)
            )
            items += [WorkItem(kind, UUID(r.id), r.workspace_id) for r in self._rows(query)]
        return items
