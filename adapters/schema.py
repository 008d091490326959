"""Tables the adapters own: API key hashes, worker leases, sandbox invoices, provisioning
orders and callback ids, webhook endpoints and their outbox."""

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
    Text,
    UniqueConstraint,
)

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("prefix", String(16), nullable=False, index=True),
    Column("workspace_id", String(200), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

sandbox_invoices = Table(
    "sandbox_invoices",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("request_id", String(36), nullable=False, unique=True),
    Column("workspace_id", String(200), nullable=False),
    Column("description", String(500), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("currency", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_paid", Integer, nullable=False),
    Column("refund_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

stripe_customers = Table(
    "stripe_customers",
    metadata,
    Column("workspace_id", String(200), primary_key=True),
    Column("customer_id", String(255), nullable=False),
)

processed_webhooks = Table(
    "processed_webhooks",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

sandbox_line_status = Table(
    "sandbox_line_status",
    metadata,
    Column("line_id", String(36), primary_key=True),
    Column("up", Boolean, nullable=False),
    Column("imessage", Boolean, nullable=False),
)

# Orders sent to the http provisioning service (TUCO_PROVISIONER=http): when each was
# accepted and last polled, so the worker sends once and polls only after the poll interval.
provisioning_orders = Table(
    "provisioning_orders",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("polled_at", DateTime(timezone=True)),
)

# The `webhook-id` of every provisioning callback, bound to the request it first named: the
# signature does not cover the URL, so a captured callback replayed at another request's URL
# is refused.
provisioning_messages = Table(
    "provisioning_messages",
    metadata,
    Column("message_id", String(255), primary_key=True),
    Column("request_id", String(36), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# Outbound status webhooks: each workspace's endpoints, and the outbox of messages to them
# (written by adapters/webhook_outbox.py as it follows the log; sent by application/outbound.py).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(200), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("failing_since", DateTime(timezone=True)),  # first failure since the last success
    Column("disabled_at", DateTime(timezone=True)),
    Column("disabled_reason", String(500)),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),  # also the message's `webhook-id`
    Column("endpoint_id", String(40), nullable=False),
    Column("workspace_id", String(200), nullable=False),
    Column("position", Integer, nullable=False),  # of the event in the log
    Column("event_type", String(64), nullable=False),
    Column("request_id", String(36), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_status", Integer),
    Column("last_error", String(500)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    # A lease on this message: only the holder sends it, until the claim expires.
    Column("claimed_by", String(128)),
    Column("claim_expires_at", DateTime(timezone=True)),
    UniqueConstraint("endpoint_id", "position", name="uq_webhook_deliveries_endpoint_position"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_workspace", "workspace_id", "position"),
)
