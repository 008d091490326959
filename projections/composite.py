"""Several projections advanced together: one read of the log, one transaction, one
tracked position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection

from application.views import CommittedBatch
from projections.runner import Projection


class CompositeProjection:
    def __init__(self, name: str, parts: Sequence[Projection]) -> None:
        self.name = name
        self.parts = list(parts)
        self._wanted: dict[str, bool] = {}

    def wants(self, topic: str) -> bool:
        wanted = self._wanted.get(topic)
        if wanted is None:
            wanted = self._wanted[topic] = any(p.wants(topic) for p in self.parts)
        return wanted

    def apply(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        topics = [get_topic(type(e)) for _, e in events]
        for part in self.parts:
            mine = [pe for pe, topic in zip(events, topics, strict=True) if part.wants(topic)]
            if mine:
                part.apply(conn, mine)

    def apply_committed(self, conn: Connection, batches: Sequence[CommittedBatch]) -> None:
        for part in self.parts:
            part.apply_committed(conn, batches)

    def retry(self, conn: Connection, aggregate_id: str) -> None:
        raise NotImplementedError("retry a part: set-aside rows are kept per part")

    def committed(self) -> None:
        for part in self.parts:
            part.committed()

    def rolled_back(self) -> None:
        for part in self.parts:
            part.rolled_back()
