"""The plain-CRUD baseline's tables, engines and seeding (bench/crud_app.py serves them).

Plain SQL rows, one per line request and one per state change, with SQLAlchemy Core 2.x on
the same database as the product: a SQLite file in WAL mode (synchronous left at its
default) or PostgreSQL through psycopg. Nothing here imports the product.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url

metadata = MetaData()

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("plan", String(16), nullable=False),
    Column("subscription_active", Boolean, nullable=False),
    Column("overrides", Text, nullable=False, default="{}"),  # {"phone": {"included", "max"}}
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("workspace_id", String(200), ForeignKey("workspaces.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

line_requests = Table(
    "line_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(200), ForeignKey("workspaces.id"), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("phone", String(16)),
    Column("email", String(254)),
    Column("state", String(20), nullable=False),
    Column("payment_status", String(16), nullable=False),
    Column("request_source", String(16), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("line_type", String(16), nullable=False),
    Column("payment_link_url", String(500)),
    Column("stripe_invoice_id", String(64)),
    Column("daily_new_conversations_limit", Integer, nullable=False),
    Column("daily_total_messages_limit", Integer, nullable=False),
    Column("usage_date", String(10)),
    Column("usage_new_messages", Integer, nullable=False, default=0),
    Column("usage_total_messages", Integer, nullable=False, default=0),
    Column("health_status", String(16)),
    Column("health_checked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The capacity check: the awaiting_payment row, and held slots per channel (index only).
    Index("ix_line_requests_capacity", "workspace_id", "state", "channel"),
    Index("ix_line_requests_list", "workspace_id", "created_at"),
)

line_request_history = Table(
    "line_request_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("line_request_id", String(36), ForeignKey("line_requests.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("payment_status", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_line_request_history_request", "line_request_id", "id"),
)

# SPEC §2 as data: (plan, channel) -> (included, max); max None = unlimited paid add-ons.
PLANS: dict[tuple[str, str], tuple[int, int | None]] = {
    ("mini", "phone"): (0, 0),
    ("mini", "email"): (1, None),
    ("starter", "phone"): (1, 1),
    ("starter", "email"): (0, None),
    ("growth", "phone"): (2, None),
    ("growth", "email"): (0, None),
}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def engines(url: str, timeout: float = 5.0) -> tuple[Engine, Engine]:
    """(write engine, read engine). PostgreSQL: one engine with SQLAlchemy's default pool
    (5 + 10 overflow), as the product's; writers lock the workspace row (SELECT … FOR
    UPDATE). SQLite, as the product does: writers BEGIN IMMEDIATE (they take the write lock
    first, so a read-then-write never hits a stale snapshot), readers a deferred BEGIN, and
    WAL lets readers run beside the writer. SQLite has one writer at a time: the write
    engine's pool holds one connection, so writers queue in the process (in order) instead
    of in SQLite's busy handler, which sleeps and polls: with 32 connections that gave the
    same throughput with a p99 3-4 times higher, and some writers past the 5 s timeout. The
    product's event store library does the same (eventsourcing's SQLite pool: one writer)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        schema = parsed.query.get("schema")
        parsed = parsed.difference_update_query(["schema"])
        args: dict[str, Any] = {"connect_timeout": max(1, round(timeout))}
        if schema:
            args["options"] = f"-c search_path={schema}"
        engine = create_engine(parsed, pool_timeout=timeout, connect_args=args)
        return engine, engine
    path = str(Path(parsed.database or "").resolve())
    writer = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30.0}
    return _sqlite(path, timeout, "BEGIN IMMEDIATE", writer), _sqlite(path, timeout, "BEGIN", {})


def _sqlite(path: str, timeout: float, begin: str, pool: dict[str, Any]) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": timeout, "check_same_thread": False},
        **pool,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def create_schema(url: str) -> None:
    write, _ = engines(url)
    try:
        metadata.create_all(write)
    finally:
        write.dispose()


def seed(url: str, workspace_keys: dict[str, str], phone_included: int, phone_max: int) -> None:
    """Growth workspaces with an active subscription and a phone override, each with its
    API key (stored as a hash)."""
    write, _ = engines(url)
    overrides = json.dumps({"phone": {"included": phone_included, "max": phone_max}})
    now = datetime.now(UTC)
    try:
        with write.begin() as conn:
            conn.execute(
                workspaces.insert().values(overrides=overrides),
                [
                    {
                        "id": ws,
                        "plan": "growth",
                        "subscription_active": True,
                        "overrides": overrides,
                    }
                    for ws in workspace_keys
                ],
            )
            conn.execute(
                api_keys.insert(),
                [
                    {"key_hash": hash_key(key), "workspace_id": ws, "created_at": now}
                    for ws, key in workspace_keys.items()
                ],
            )
    finally:
        write.dispose()
