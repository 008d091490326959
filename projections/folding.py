"""The pieces of the lines fold shared by the projection (`projections.lines`) and the
rebuild's fold workers (`projections.fold_worker`): a request's events grouped and folded by
the domain's own event methods, and its row computed from the folded state by
`application.views.view_of`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection

from application.views import LineView, view_of
from projections.schema import OWED_KINDS

Row = dict[str, Any]


class History(Protocol):
    def history(
        self, conn: Connection, aggregate_id: UUID, before_version: int | None = None
    ) -> list[tuple[int, Any]]: ...


def row_of(view: LineView, seq: int) -> Row:
    """The stored columns of a view (enums as their values, owed work as flags)."""
    # `_value_` is the member's plain attribute; `.value` is a property, several times
    # slower, and this runs once per request per batch (and per event in a rebuild).
    owed = {kind._value_ for kind in view.owed}
    return {
        "id": str(view.id),
        "workspace_id": view.workspace_id,
        "seq": seq,
        "first_name": view.first_name,
        "last_name": view.last_name,
        "phone": view.phone,
        "email": view.email,
        "state": view.state._value_,
        "payment_status": view.payment_status._value_,
        "billing": view.billing._value_,
        "source": view.source._value_,
        "channel": view.channel._value_,
        "line_type": view.line_type._value_,
        "payment_url": view.payment_url,
        "invoice_id": view.invoice_id,
        "invoice_voided": False,
        "daily_new_conversations_limit": view.daily_new_conversations_limit,
        "daily_total_messages_limit": view.daily_total_messages_limit,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
        "version": view.version,
        "server_url": view.server_url,
        "health_status": view.health_status._value_ if view.health_status else None,
        "health_checked_at": view.health_checked_at,
        **{f"owes_{k}": k in owed for k in OWED_KINDS},
        "stale": False,
    }


# (aggregate id, position of its first event in the batch, that event's topic, the error)
Failure = tuple[UUID, int, str, str]


def by_request(events: Sequence[tuple[int, Any]]) -> dict[UUID, list[tuple[int, Any]]]:
    """(position, event) pairs grouped by request, each group in log order."""
    groups: dict[UUID, list[tuple[int, Any]]] = {}
    for pe in events:
        group = groups.get(pe[1].originator_id)
        if group is None:
            groups[pe[1].originator_id] = [pe]
        else:
            group.append(pe)
    return groups


def fold(prior: tuple[int, Any], events: Sequence[tuple[int, Any]]) -> tuple[int, Any]:
    """A request (and its seq: the position of its first event) folded on from `prior`
    by the domain's own event methods."""
    seq, agg = prior
    for position, e in events:
        agg = e.mutate(agg)
        seq = seq or position
    return seq, agg


def ready_row(seq: int, agg: Any) -> Row | None:
    """The row of a folded request; None until it has a state (its ProvisioningStarted or
    equivalent may be in the next batch)."""
    return row_of(view_of(agg), seq) if agg.state is not None else None


def topic_of(event: Any) -> str:
    return getattr(event, "topic", None) or get_topic(type(event))
