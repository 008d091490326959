"""Usage reported by the messaging side, one aggregate per batch: a re-sent batch has the
same id, so it collides with the first instead of being counted twice."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

_NAMESPACE = UUID("0b7e3f6c-1a2d-4c5e-8f90-123456789abc")


class UsageBatch(Aggregate):
    @staticmethod
    def create_id(batch_id: str) -> UUID:
        return uuid5(_NAMESPACE, f"usage-batch:{batch_id}")

    @event("Recorded")
    def __init__(self, batch_id: str, items: list[dict[str, Any]]):
        """`items`: {"line_id": str, "at": datetime (UTC), "new_conversation": bool,
        "messages": int} each."""
        self.batch_id = batch_id
        self.items = items
