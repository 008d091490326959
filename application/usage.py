"""Usage reported by the messaging side, and whether each line is within its daily limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.app import LinesApp
from application.ports import Clock
from application.session import Session
from application.views import LineView, ReadModel
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


def _record_once(session: Session, batch: UsageBatch) -> bool:
    """True when a batch with this id was already recorded (nothing is counted twice)."""
    if session.exists(batch.id):
        return True
    session.save(batch)
    return False


class UsageReporting:
    def __init__(self, app: LinesApp, read_model: ReadModel, clock: Clock) -> None:
        self.app = app
        self.read_model = read_model
        self.clock = clock

    def record(self, batch_id: str, items: list[UsageItem]) -> tuple[bool, list[LineAllowance]]:
        """Record a batch once (a re-sent batch id counts nothing); returns whether it was a
        duplicate, and today's usage against the limits of every line in it."""
        line_ids = list(dict.fromkeys(i.line_id for i in items))
        views = {line_id: self._line(line_id) for line_id in line_ids}
        batch = UsageBatch(
            batch_id=batch_id,
            items=[
                {"line_id": str(i.line_id), "at": i.at,
                 "new_conversation": i.new_conversation, "messages": i.messages}
                for i in items
            ],
        )  # fmt: skip
        duplicate = self.app.execute(lambda session: _record_once(session, batch))
        self.read_model.wait_for()
        return duplicate, self.allowances(list(views.values()))

    def _line(self, line_id: UUID) -> LineView:
        try:
            return self.app.view(line_id)
        except NotFound:
            raise NotFound("line", line_id) from None

    def allowances(self, views: list[LineView]) -> list[LineAllowance]:
        """Today's usage (from the usage projection) against each line's limits."""
        day = self.clock.now().date()
        allowances = []
        for v in views:
            new, total = self.read_model.usage(v.id, day)
            allowances.append(
                LineAllowance(
                    line_id=v.id,
                    date=day.isoformat(),
                    new_conversations=new,
                    total_messages=total,
                    new_conversations_limit=v.daily_new_conversations_limit,
                    total_messages_limit=v.daily_total_messages_limit,
                )
            )
        return allowances
