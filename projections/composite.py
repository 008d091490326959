"""Several projections advanced together: one read of the log, one transaction, one
tracked position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection

from application.views import CommittedBatch
from projections.eventlog import Undecodable
from projections.runner import Projection


class CompositeProjection:
    def __init__(self, name: str, parts: Sequence[Projection]) -> None:
        self.name = name
        self.parts = list(parts)
        self._wanted: dict[str, bool] = {}
        self._takers: dict[type, list[int]] = {}  # event class → indexes of parts that want it

    def wants(self, topic: str) -> bool:
        wanted = self._wanted.get(topic)
        if wanted is None:
            wanted = self._wanted[topic] = any(p.wants(topic) for p in self.parts)
        return wanted

    def apply(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        shares: list[list[tuple[int, Any]]] = [[] for _ in self.parts]
        takers = self._takers
        for pe in events:
            kind = type(pe[1])
            indexes = takers.get(kind)
            if kind is Undecodable:  # one class for every topic: routed by its own
                indexes = [i for i, p in enumerate(self.parts) if p.wants(pe[1].topic)]
            elif indexes is None:
                topic = get_topic(kind)
                indexes = takers[kind] = [i for i, p in enumerate(self.parts) if p.wants(topic)]
            for index in indexes:
                shares[index].append(pe)
        for part, mine in zip(self.parts, shares, strict=True):
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
