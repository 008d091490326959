"""The process's aggregates in memory, kept fresh against the shared log.

The writer decides against cached aggregates; readers get immutable views of what was
committed. Before either trusts the cache, `refresh` reads the ids written since it last
looked (one small query) and evicts whatever another process changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import PersistenceError

from application.errors import store_unavailable
from application.ports import LogTail
from application.views import CommittedBatch, LineView, view_of
from domain.line_request import LineRequest


class Aggregates:
    def __init__(self, app: Application[UUID], tail: LogTail, maxsize: int = 20_000) -> None:
        self.app = app
        self.tail = tail
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()  # the writer's look at the log
        self._view_refresh_lock = threading.Lock()  # readers' look
        self._aggregates: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._views: OrderedDict[UUID, LineView] = OrderedDict()
        # Where each look at the log got to. Only the writer thread changes `_aggregates`.
        self.position: int | None = None
        self.view_position: int | None = None

    # --- freshness -------------------------------------------------------------------

    def refresh(self) -> None:
        """The writer's look at the log, before it decides: aggregates another process
        changed are brought up to date (workspaces, which every process shares, by applying
        the new events; anything else is evicted and reloaded when needed)."""
        with self._refresh_lock:
            if self.position is None:  # nothing cached before the first look is trusted
                self._aggregates.clear()
            self.position, changes = self._changes(self.position)
            stale = {
                aggregate_id: version
                for _, aggregate_id, version in changes
                if (agg := self._aggregates.get(aggregate_id)) is not None and agg.version < version
            }
            if stale:
                self._fast_forward(changes[0][0], stale)
            self._evict_views(changes)

    def refresh_views(self) -> None:
        """A reader's look at the log: committed views another process changed are evicted."""
        with self._view_refresh_lock:
            if self.view_position is None:  # nothing cached before the first look is trusted
                with self._lock:
                    self._views.clear()
            self.view_position, changes = self._changes(self.view_position)
            self._evict_views(changes)

    def _changes(self, position: int | None) -> tuple[int, list[tuple[int, UUID, int]]]:
        try:
            if position is None:
                return self.tail.head(), []
            changes = self.tail.since(position, 10_000)
        except PersistenceError as e:
            raise store_unavailable(e) from e
        if len(changes) == 10_000:  # far behind: start afresh
            with self._lock:
                self._views.clear()
            self._aggregates.clear()
            return self.tail.head(), []
        return (changes[-1][0] if changes else position), changes

    def _fast_forward(self, first: int, targets: dict[UUID, int]) -> None:
        """Apply the events from `first` on to the cached aggregates in `targets` (id →
        version reached in the log), in log order, with one query; one that cannot be
        brought exactly up to date is evicted."""
        try:
            notes = self.app.recorder.select_notifications(first, 10_000)
        except PersistenceError as e:
            raise store_unavailable(e) from e
        for note in notes:
            key = note.originator_id
            agg = self._aggregates.get(key) if isinstance(key, UUID) and key in targets else None
            if agg is None or agg.version >= note.originator_version:
                continue
            event: Any = self.app.mapper.to_domain_event(note)
            if agg.version == note.originator_version - 1:
                event.mutate(agg)
        with self._lock:
            for aggregate_id, version in targets.items():
                agg = self._aggregates.get(aggregate_id)
                if agg is not None and agg.version != version:  # a gap: load it afresh
                    del self._aggregates[aggregate_id]

    def _evict_views(self, changes: list[tuple[int, UUID, int]]) -> None:
        with self._lock:
            for _, aggregate_id, version in changes:
                view = self._views.get(aggregate_id)
                if view is not None and view.version < version:
                    del self._views[aggregate_id]

    def wrote(self, batch: CommittedBatch) -> None:
        """This process just committed `batch`. When it directly follows what a look at the
        log already covered, nobody else wrote in between: there is nothing to read back,
        and its views are the latest state (published under the readers' lock, so no look
        can slip in between). Otherwise its views are left to the next look."""
        if not batch.contiguous:
            return
        with self._refresh_lock:
            if self.position == batch.first - 1:
                self.position = batch.last
        with self._view_refresh_lock:
            if self.view_position != batch.first - 1:
                with self._lock:
                    for view, _ in batch.views:
                        self._views.pop(view.id, None)
                return
            self.view_position = batch.last
            with self._lock:
                for view, _ in batch.views:
                    self._publish(view)

    # --- the writer's side -----------------------------------------------------------

    def load(self, aggregate_id: UUID) -> Aggregate | None:
        with self._lock:
            agg = self._aggregates.get(aggregate_id)
            if agg is not None:
                self._aggregates.move_to_end(aggregate_id)
                return agg
        found: Aggregate | None = self._from_store(aggregate_id)
        return found

    def evict(self, aggregates: dict[UUID, Aggregate]) -> None:
        with self._lock:
            for aggregate_id in aggregates:
                self._aggregates.pop(aggregate_id, None)

    def committed(self, aggregates: Iterable[Aggregate]) -> None:
        with self._lock:
            for agg in aggregates:
                self._aggregates[agg.id] = agg
                self._aggregates.move_to_end(agg.id)
            while len(self._aggregates) > self.maxsize:
                self._aggregates.popitem(last=False)

    # --- readers ---------------------------------------------------------------------

    def view(self, request_id: UUID) -> LineView | None:
        """The committed state of a request, fresh as of this call, on any process."""
        self.refresh_views()
        with self._lock:
            found = self._views.get(request_id)
        if found is not None:
            return found
        req = self._from_store(request_id)
        if not isinstance(req, LineRequest):
            return None
        view = view_of(req)
        with self._lock:
            self._publish(view)
        return view

    def _publish(self, view: LineView) -> None:
        current = self._views.get(view.id)
        if current is None or current.version <= view.version:
            self._views[view.id] = view
            self._views.move_to_end(view.id)
            while len(self._views) > self.maxsize:
                self._views.popitem(last=False)

    def _from_store(self, aggregate_id: UUID) -> Any:
        return from_store(self.app, aggregate_id)


def from_store(app: Application[UUID], aggregate_id: UUID) -> Any:
    """The aggregate as stored, or None when there is none."""
    try:
        return app.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return None
    except PersistenceError as e:
        raise store_unavailable(e) from e
