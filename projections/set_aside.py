"""What a projection could not apply: one row per aggregate set aside, with the first
position not applied, the error, and when to try again (exponential backoff)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from projections.schema import set_aside

t = set_aside.c
MAX_BACKOFF = timedelta(minutes=10)


def ids(conn: Connection, name: str) -> set[str]:
    rows = conn.execute(select(t.aggregate_id).where(t.name == name))
    return {r.aggregate_id for r in rows}


def due(conn: Connection, name: str, now: datetime, limit: int = 100) -> list[str]:
    query = (
        select(t.aggregate_id)
        .where(t.name == name, t.retry_at <= now)
        .order_by(t.position)
        .limit(limit)
    )
    return [r.aggregate_id for r in conn.execute(query)]


def put(
    conn: Connection, name: str, aggregate_id: str, position: int, topic: str, error: str
) -> None:
    """Set an aggregate aside (or keep it there: the first position and first failure
    time stay; the error is the newest)."""
    now = datetime.now(UTC)
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(set_aside)
    conn.execute(
        insert.values(
            name=name,
            aggregate_id=aggregate_id,
            position=position,
            topic=topic[:255],
            error=error[:2000],
            attempts=1,
            first_failed_at=now,
            retry_at=now + timedelta(seconds=1),
        ).on_conflict_do_nothing(index_elements=[t.name, t.aggregate_id])
    )


def retry_failed(conn: Connection, name: str, aggregate_id: str, error: str) -> None:
    row = conn.execute(
        select(t.attempts).where(t.name == name, t.aggregate_id == aggregate_id)
    ).first()
    attempts = (row.attempts if row else 0) + 1
    delay = min(MAX_BACKOFF, timedelta(seconds=2 ** min(attempts, 20)))
    conn.execute(
        update(set_aside)
        .where(t.name == name, t.aggregate_id == aggregate_id)
        .values(attempts=attempts, error=error[:2000], retry_at=datetime.now(UTC) + delay)
    )


def release(conn: Connection, name: str, aggregate_id: str) -> None:
    conn.execute(delete(set_aside).where(t.name == name, t.aggregate_id == aggregate_id))
