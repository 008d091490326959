"""Usage reported by the messaging side, and whether each line is within its daily limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.app import LinesApp
from application.ports import Clock
from application.views import ReadModel
from domain.errors import NotFound
from domain.usage import UsageBatch


@dataclass(frozen=True)
class UsageItem:
    line_id: UUID
    at: datetime
    new_conversation: bool
    messages: int


@dataclass(frozen=True)
class LineAllowance:
    line_id: UUID
    date: str
    new_conversations: int
    total_messages: int
    new_conversations_limit: int
    total_messages_limit: int

    @property
    def within_limits(self) -> bool:
        return (
            self.new_conversations < self.new_conversations_limit
            and self.total_messages < self.total_messages_limit
        )


class UsageReporting:
    def __init__(self, app: LinesApp, read_model: ReadModel, clock: Clock) -> None:
        self.app = app
        self.read_model = read_model
        self.clock = clock

    def record(self, batch_id: str, items: list[UsageItem]) -> tuple[bool, list[LineAllowance]]:
        """Record a batch once (a re-sent batch id counts nothing); returns whether it was a
        duplicate, and today's usage against the limits of every line in it."""
        line_ids = list(dict.fromkeys(i.line_id for i in items))
        for line_id in line_ids:
            if self.read_model.find_line(line_id) is None:
                raise NotFound("line", line_id)
        batch = UsageBatch(
            batch_id=batch_id,
            items=[
                {"line_id": str(i.line_id), "at": i.at,
                 "new_conversation": i.new_conversation, "messages": i.messages}
                for i in items
            ],
        )  # fmt: skip
        try:
            self.app.commit(batch)
            duplicate = False
        except IntegrityError:
            duplicate = True
        return duplicate, self.allowances(line_ids)

    def allowances(self, line_ids: list[UUID]) -> list[LineAllowance]:
        """Today's usage (the read model's views carry it) against each line's limits."""
        today = self.clock.now().date().isoformat()
        views = [self.read_model.find_line(line_id) for line_id in line_ids]
        return [
            LineAllowance(
                line_id=v.id,
                date=today,
                new_conversations=v.usage_new_conversations,
                total_messages=v.usage_total_messages,
                new_conversations_limit=v.daily_new_conversations_limit,
                total_messages_limit=v.daily_total_messages_limit,
            )
            for v in views
            if v is not None
        ]
