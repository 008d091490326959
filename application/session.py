"""What one command sees inside a group commit: aggregates by id (from memory, or loaded),
and where it puts the aggregates it changed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.aggregates import Aggregates
from domain.errors import NotFound
from domain.line_request import LineRequest
from domain.workspace import Workspace


class Lookups:
    """Aggregates by id, as commands and queries ask for them; `_get` says where from."""

    def _get(self, aggregate_id: UUID) -> Any:
        raise NotImplementedError

    def find_request(self, request_id: UUID) -> LineRequest | None:
        found = self._get(request_id)
        return found if isinstance(found, LineRequest) else None

    def line_request(self, request_id: UUID, workspace_id: str | None = None) -> LineRequest:
        """The request, or NotFound, also when it belongs to another workspace."""
        req = self.find_request(request_id)
        if req is None or (workspace_id is not None and req.workspace_id != workspace_id):
            raise NotFound("line request", request_id)
        return req

    def find_workspace(self, workspace_id: str) -> Workspace | None:
        found = self._get(Workspace.create_id(workspace_id))
        return found if isinstance(found, Workspace) else None

    def workspace(self, workspace_id: str) -> Workspace:
        ws = self.find_workspace(workspace_id)
        if ws is None:
            raise NotFound("workspace", workspace_id)
        return ws


class Session(Lookups):
    """What one command sees: aggregates by id (cached, or loaded), and where it puts the
    aggregates it changed."""

    def __init__(self, aggregates: Aggregates, touched: dict[UUID, Aggregate]) -> None:
        self._aggregates = aggregates
        self._touched = touched
        self.changed: list[Aggregate] = []

    def _get(self, aggregate_id: UUID) -> Aggregate | None:
        agg = self._touched.get(aggregate_id)
        if agg is None:
            agg = self._aggregates.load(aggregate_id)
            if agg is not None:
                self._touched[aggregate_id] = agg
        return agg

    def exists(self, aggregate_id: UUID) -> bool:
        return self._get(aggregate_id) is not None

    def save(self, *aggregates: Aggregate) -> None:
        for agg in aggregates:
            self._touched[agg.id] = agg
            self.changed.append(agg)
