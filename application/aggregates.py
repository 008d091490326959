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

from application.errors import ServiceBusy
from application.ports import LogTail
from application.views import LineView, view_of
from domain.line_request import LineRequest


class Aggregates:
    def __init__(self, app: Application[UUID], tail: LogTail, maxsize: int = 20_000) -> None:
        self.app = app
        self.tail = tail
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._aggregates: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._views: OrderedDict[UUID, LineView] = OrderedDict()
        self.position: int | None = None

    # --- freshness -------------------------------------------------------------------

    def refresh(self) -> None:
        """Evict what was written since the last look by anyone (our own writes are
        recognised by their version and kept)."""
        with self._refresh_lock:
            try:
                if self.position is None:
                    self.position = self.tail.head()
                    return
                changes = self.tail.since(self.position, 10_000)
            except PersistenceError as e:
                raise ServiceBusy(f"The event store is unavailable: {e}") from e
            if not changes:
                return
            with self._lock:
                if len(changes) == 10_000:  # far behind: start afresh
                    self._aggregates.clear()
                    self._views.clear()
                for _, aggregate_id, version in changes:
                    agg = self._aggregates.get(aggregate_id)
                    if agg is not None and agg.version < version:
                        del self._aggregates[aggregate_id]
                    view = self._views.get(aggregate_id)
                    if view is not None and view.version < version:
                        del self._views[aggregate_id]
                self.position = changes[-1][0]

    def wrote(self, first: int, last: int, count: int) -> None:
        """This process just wrote positions first..last: when they directly follow what was
        already looked at, nobody else wrote in between, so there is nothing to read back."""
        with self._refresh_lock:
            if self.position == first - 1 and last - first + 1 == count:
                self.position = last

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
                if isinstance(agg, LineRequest):
                    self._publish(view_of(agg))
            while len(self._aggregates) > self.maxsize:
                self._aggregates.popitem(last=False)

    # --- readers ---------------------------------------------------------------------

    def view(self, request_id: UUID) -> LineView | None:
        """The committed state of a request, fresh as of this call, on any process."""
        self.refresh()
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
        try:
            return self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        except PersistenceError as e:
            raise ServiceBusy(f"The event store is unavailable: {e}") from e
