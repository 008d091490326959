"""Tables of the read models and of their tracked positions."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData()
OWED_KINDS = (
    "invoice", "invoice_search", "void", "refund", "provision", "reconcile", "health_check",
)  # fmt: skip

positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
)

line_views = Table(
    "line_views",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("workspace_id", String(200), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("phone", String(32)),
    Column("email", String(320)),
    Column("state", String(32), nullable=False),
    Column("payment_status", String(32), nullable=False),
    Column("billing", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("line_type", String(16), nullable=False),
    Column("payment_url", String(2000)),
    Column("invoice_id", String(255)),
    Column("invoice_voided", Boolean, nullable=False, default=False),
    Column("daily_new_conversations_limit", Integer, nullable=False),
    Column("daily_total_messages_limit", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("server_url", String(2000)),
    Column("health_status", String(16)),
    Column("health_checked_at", DateTime(timezone=True)),
    # Owed side effects, from the domain's `owed_work` (one column per WorkKind).
    *[Column(f"owes_{kind}", Boolean) for kind in OWED_KINDS],
    # True while a later event of this request could not be applied (see set_aside).
    Column("stale", Boolean),
    Index("ix_line_views_workspace_seq", "workspace_id", "seq"),
    Index("ix_line_views_state", "state"),
)

# Events a projection could not apply, kept like a dead-letter queue: the aggregate is set
# aside (its row marked stale) and the projection goes on with the rest of the log.
set_aside = Table(
    "projection_set_aside",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("aggregate_id", String(36), primary_key=True),
    Column("position", Integer, nullable=False),  # the first event not applied
    Column("topic", String(255), nullable=False),
    Column("error", String(2000), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", DateTime(timezone=True), nullable=False),
    Column("retry_at", DateTime(timezone=True), nullable=False),
)

line_usage = Table(
    "line_usage",
    metadata,
    Column("line_id", String(36), primary_key=True),
    Column("day", String(10), primary_key=True),  # ISO date, UTC
    Column("new_conversations", Integer, nullable=False),
    Column("total_messages", Integer, nullable=False),
)
