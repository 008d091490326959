"""The `usage` projection: per line, per UTC day, new conversations and messages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from projections.schema import line_usage


def utc_day(at: datetime) -> str:
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date().isoformat()


class UsageProjection:
    topic_prefix = "domain.usage:UsageBatch."

    def __init__(self, table: Table = line_usage, name: str = "usage") -> None:
        self.table = table
        self.name = name

    def wants(self, topic: str) -> bool:
        return topic.startswith(self.topic_prefix)

    def apply(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
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
