"""The `usage` projection: per line, per UTC day, new conversations and messages."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from application.views import CommittedBatch
from projections import set_aside
from projections.folding import History
from projections.schema import line_usage

log = logging.getLogger(__name__)


def utc_day(at: datetime) -> str:
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date().isoformat()


class UsageProjection:
    topic_prefix = "domain.usage:UsageBatch."

    def __init__(self, log: History, table: Table = line_usage, name: str = "usage") -> None:
        self.log = log
        self.table = table
        self.name = name

    def wants(self, topic: str) -> bool:
        return topic.startswith(self.topic_prefix)

    def apply(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        aside = set_aside.ids(conn, self.name)
        mine = [(p, e) for p, e in events if str(e.originator_id) not in aside]
        try:
            with conn.begin_nested():
                self._add(conn, mine)
        except Exception:  # noqa: BLE001 (isolation: set aside, logged, retried)
            for position, e in mine:
                try:
                    with conn.begin_nested():
                        self._add(conn, [(position, e)])
                except Exception as exc:  # noqa: BLE001 (isolation: set aside, logged, retried)
                    log.error("projection %s sets batch %s aside: %r", self.name,
                              e.originator_id, exc)  # fmt: skip
                    set_aside.put(conn, self.name, str(e.originator_id), position,
                                  get_topic(type(e)), repr(exc))  # fmt: skip

    def apply_committed(self, conn: Connection, batches: Sequence[CommittedBatch]) -> None:
        pass  # a complete batch holds no usage

    def retry(self, conn: Connection, aggregate_id: str) -> None:
        with conn.begin_nested():
            self._add(conn, self.log.history(conn, UUID(aggregate_id)))

    def committed(self) -> None:
        pass

    def rolled_back(self) -> None:
        pass

    def _add(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        new: Counter[tuple[str, str]] = Counter()
        total: Counter[tuple[str, str]] = Counter()
        for _, e in events:
            for item in e.items:
                key = (item["line_id"], utc_day(item["at"]))
                new[key] += 1 if item["new_conversation"] else 0
                total[key] += int(item["messages"])
        if not total and not new:
            return
        t = self.table
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(t)
        stmt = insert.on_conflict_do_update(
            index_elements=[t.c.line_id, t.c.day],
            set_={
                "new_conversations": t.c.new_conversations + insert.excluded.new_conversations,
                "total_messages": t.c.total_messages + insert.excluded.total_messages,
            },
        )
        rows = [
            {"line_id": k[0], "day": k[1], "new_conversations": new[k], "total_messages": total[k]}
            for k in set(new) | set(total)
        ]
        conn.execute(stmt, rows)
