"""Committed batches handed from this process's writer to its projections.

A batch that directly follows the projection's position, with no other process's events in
between, says everything the log says of those positions: the state each request reached
(the same `view_of` fold the projection would compute). Applying it saves reading, decoding
and folding events this process has just folded. Anything else (a gap, another process's
writes, usage batches, a restart) is read from the log as usual.
"""

from __future__ import annotations

import threading
from collections import deque

from application.views import CommittedBatch


class Handoffs:
    def __init__(self, keep: int = 2000) -> None:
        self._batches: deque[CommittedBatch] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def put(self, batch: CommittedBatch) -> None:
        with self._lock:
            self._batches.append(batch)

    def take(self, after: int, limit: int, upto: int | None = None) -> list[CommittedBatch]:
        """The batches that continue the log exactly from `after`, in order (at most
        `limit` positions, not past `upto`); older ones are dropped."""
        taken: list[CommittedBatch] = []
        with self._lock:
            while self._batches and self._batches[0].last <= after:
                self._batches.popleft()
            position = after
            for batch in self._batches:
                usable = batch.complete and batch.contiguous and batch.first == position + 1
                within = upto is None or batch.last <= upto
                if not usable or not within or batch.last - after > limit:
                    break
                taken.append(batch)
                position = batch.last
        return taken
