"""The application's event log, as projections read it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from eventsourcing.application import Application


class ApplicationLog:
    """Reads notifications in log order; decoding is deferred, so a projection pays only
    for the events it wants."""

    def __init__(self, app: Application[Any]) -> None:
        self.recorder = app.recorder
        self.mapper = app.mapper

    def select(self, after: int, limit: int) -> Sequence[tuple[int, str, Callable[[], Any]]]:
        notes = self.recorder.select_notifications(after, limit, inclusive_of_start=False)
        return [(n.id, n.topic, partial(self.mapper.to_domain_event, n)) for n in notes]

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0
