"""The `lines` projection: one row per line request, computed from the request's folded
state by `application.views.view_of` (one fold: the domain's own event methods), never by
a second set of handlers.

Isolation: a request whose events cannot be folded or stored is set aside (its row marked
stale, the failure kept in `projection_set_aside`) and the rest of the batch goes on. Set-aside
requests are re-folded from the whole log later (`retry`), in order, once that works.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Dialect, Table, update
from sqlalchemy.exc import SQLAlchemyError

from application.views import CommittedBatch, LineView, view_of
from projections import set_aside
from projections.bulk import Bound, Upsert
from projections.folding import (
    Failure,
    History,
    Row,
    by_request,
    fold,
    ready_row,
    row_of,
    topic_of,
)
from projections.schema import line_views

log = logging.getLogger(__name__)


class LinesProjection:
    topic_prefix = "domain.line_request:LineRequest."

    def __init__(
        self, log: History, table: Table = line_views, name: str = "lines", cache: int = 20_000
    ) -> None:
        self.log = log
        self.table = table
        self.name = name
        self.cache_size = cache
        self._upserts = Upsert(table, key="id", keep=("seq",))
        # Folded requests as of the last commit: id → (seq, aggregate).
        self._folded: OrderedDict[UUID, tuple[int, Any]] = OrderedDict()
        self._pending: dict[UUID, tuple[int, Any]] = {}

    def wants(self, topic: str) -> bool:
        return topic.startswith(self.topic_prefix)

    def apply(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        """Fold (position, event) pairs in log order into rows, in the caller's transaction."""
        aside = set_aside.ids(conn, self.name)
        rows: list[Row] = []
        for aggregate_id, evs in by_request(events).items():
            if aside and str(aggregate_id) in aside:
                continue  # stays aside; `retry` re-folds it from the whole log
            try:
                seq, agg = fold(self._prior(conn, aggregate_id, evs[0][1].originator_version), evs)
                self._pending[aggregate_id] = (seq, agg)
                if (row := ready_row(seq, agg)) is not None:
                    rows.append(row)
            except Exception as exc:  # noqa: BLE001 (isolation: set aside, logged, retried)
                self._set_aside(conn, aggregate_id, evs[0], exc)
        self._store(conn, rows)

    def apply_folded(
        self,
        conn: Connection,
        bound: Sequence[Bound],
        rows: list[Row],
        failed: Sequence[Failure],
    ) -> None:
        """Rows folded elsewhere from this batch's events (projections.parallel), bound as
        `bind` does (or not, where a value could not be), and the requests whose events
        could not be folded there; requests set aside stay aside."""
        aside = set_aside.ids(conn, self.name)
        for aggregate_id, position, topic, error in failed:
            if str(aggregate_id) not in aside:
                self._put_aside(conn, aggregate_id, position, topic, error)
        for b in bound:
            if aside:
                b = b._replace(params=[p for p in b.params if b.key_of(p) not in aside])
            if b.params:
                self._store_bound(conn, b)
        self._store(conn, [row for row in rows if row["id"] not in aside])

    def apply_committed(self, conn: Connection, batches: Sequence[CommittedBatch]) -> None:
        """Rows straight from the state the writer committed (see projections.handoff);
        a request set aside stays aside (its retry re-folds it from the log)."""
        aside = set_aside.ids(conn, self.name)
        latest: dict[UUID, tuple[LineView, int]] = {}
        for batch in batches:
            for view, requested_at in batch.views:
                seq = requested_at or (latest[view.id][1] if view.id in latest else 0)
                latest[view.id] = (view, seq)
        rows: list[Row] = []
        for key, (view, seq) in latest.items():
            self._folded.pop(key, None)  # the cached fold is older than this row now
            if aside and str(key) in aside:
                continue
            try:
                rows.append(row_of(view, seq))
            except Exception as exc:  # noqa: BLE001 (isolation: set aside, logged, retried)
                self._set_aside(conn, key, (batches[0].first, None), exc)
        self._store(conn, rows)

    def retry(self, conn: Connection, aggregate_id: str) -> None:
        """Re-fold a set-aside request from its whole history; raises if it still fails."""
        seq, agg = self._folded_history(conn, UUID(aggregate_id))
        row = row_of(view_of(agg), seq)
        with conn.begin_nested():
            self._upserts(conn, [row])
        self._pending[UUID(aggregate_id)] = (seq, agg)

    def committed(self) -> None:
        self._folded.update(self._pending)
        for key in self._pending:
            self._folded.move_to_end(key)
        self._pending.clear()
        while len(self._folded) > self.cache_size:
            self._folded.popitem(last=False)

    def rolled_back(self) -> None:
        self._pending.clear()
        self._folded.clear()

    def _prior(self, conn: Connection, aggregate_id: UUID, version: int) -> tuple[int, Any]:
        """The request folded up to just before `version`, and its seq (0: not known)."""
        if version == 1:
            return 0, None
        cached = self._pending.get(aggregate_id) or self._folded.get(aggregate_id)
        if cached is not None and cached[1].version == version - 1:
            return cached
        return self._folded_history(conn, aggregate_id, before_version=version)

    def _folded_history(
        self, conn: Connection, aggregate_id: UUID, before_version: int | None = None
    ) -> tuple[int, Any]:
        """The request folded from the log (before a version), and its seq (0: none)."""
        history = self.log.history(conn, aggregate_id, before_version)
        _, agg = fold((0, None), history)
        return (history[0][0] if history else 0), agg

    def bind(self, dialect: Dialect, rows: list[Row]) -> Bound | None:
        """Rows as the upsert's parameters (None: a value the driver cannot take)."""
        try:
            return self._upserts.bind(dialect, rows) if rows else None
        except (OverflowError, ValueError):
            return None

    def _store(self, conn: Connection, rows: list[Row]) -> None:
        if not rows:
            return
        bound = self.bind(conn.dialect, rows)
        if bound is not None:
            self._store_bound(conn, bound)
            return
        for row in rows:  # a value the driver cannot take: find the rows that hold one
            self._store_one(conn, row["id"], partial(self._upserts, conn, [row]))

    def _store_bound(self, conn: Connection, bound: Bound) -> None:
        """Stores the bound rows; finds those that cannot be stored, one savepoint each,
        and sets their requests aside."""
        try:
            with conn.begin_nested():
                self._upserts.execute(conn, bound)
            return
        except (SQLAlchemyError, OverflowError, ValueError):
            pass
        for params in bound.params:
            store = partial(self._upserts.execute, conn, bound.only(params))
            self._store_one(conn, bound.key_of(params), store)

    def _store_one(self, conn: Connection, key: str, store: Callable[[], None]) -> None:
        try:
            with conn.begin_nested():
                store()
        except (SQLAlchemyError, OverflowError, ValueError) as exc:
            self._set_aside(conn, UUID(key), (0, None), exc)

    def _set_aside(
        self, conn: Connection, aggregate_id: UUID, first: tuple[int, Any], exc: BaseException
    ) -> None:
        position, event = first
        topic = "(storing the row)" if event is None else topic_of(event)
        self._put_aside(conn, aggregate_id, position, topic, repr(exc))

    def _put_aside(
        self, conn: Connection, aggregate_id: UUID, position: int, topic: str, error: str
    ) -> None:
        log.error("projection %s sets request %s aside: %s", self.name, aggregate_id, error)
        self._pending.pop(aggregate_id, None)
        self._folded.pop(aggregate_id, None)
        set_aside.put(conn, self.name, str(aggregate_id), position, topic, error)
        conn.execute(
            update(self.table).where(self.table.c.id == str(aggregate_id)).values(stale=True)
        )
