"""The `lines` projection: one row per line request, as the LINE object shows it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select

from domain.enums import Billing, LineState, PaymentStatus
from projections.schema import line_views

Row = dict[str, Any]


class LinesProjection:
    """Folds LineRequest events into `line_views` rows (or a shadow copy of that table
    during a rebuild), a batch at a time."""

    topic_prefix = "domain.line_request:LineRequest."

    def __init__(self, table: Table = line_views, name: str = "lines") -> None:
        self.table = table
        self.name = name
        self.updatable = [c.name for c in table.columns if c.name != "id"]
        self.handlers: dict[str, Callable[[Row, Any], None]] = {
            "Requested": self._requested,
            "Invoiced": self._invoiced,
            "Paid": self._paid,
            "ProvisioningStarted": self._set_state(LineState.PROVISIONING),
            "Activated": self._activated,
            "ProvisioningFailed": self._set_state(LineState.FAILED),
            "Canceled": self._canceled,
            "InvoiceVoided": self._invoice_voided,
            "Refunded": self._refunded,
            "ServerConfigured": self._server_configured,
            "HealthChecked": self._health_checked,
            "LimitsChanged": self._limits_changed,
        }

    def wants(self, topic: str) -> bool:
        return topic.startswith(self.topic_prefix)

    def apply(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        """Apply (position, event) pairs in log order, in the caller's transaction."""
        t = self.table
        first: dict[str, int] = {}
        for _, e in events:
            first.setdefault(str(e.originator_id), e.originator_version)
        # A request whose first event here is its first event ever has no row yet.
        ids = [key for key, version in first.items() if version > 1]
        query = select(t).where(t.c.id.in_(ids))
        stored = {r["id"]: dict(r) for r in conn.execute(query).mappings()} if ids else {}
        rows: dict[str, Row] = dict(stored)
        for position, e in events:
            key = str(e.originator_id)
            row = rows.setdefault(key, {"id": key, "seq": position})
            handler = self.handlers.get(type(e).__name__)
            if handler is not None:
                handler(row, e)
            row["version"] = e.originator_version
            row["updated_at"] = e.timestamp
        new = [r for k, r in rows.items() if k not in stored and "workspace_id" in r]
        changed = [r for k, r in rows.items() if k in stored]
        if new:
            conn.execute(t.insert(), new)
        if changed:
            cols = self.updatable
            stmt = (
                t.update().where(t.c.id == bindparam("_id")).values({c: bindparam(c) for c in cols})
            )
            conn.execute(stmt, [{"_id": r["id"], **{c: r[c] for c in cols}} for r in changed])

    @staticmethod
    def _requested(row: Row, e: Any) -> None:
        addon = e.billing is Billing.ADDON
        row.update(
            workspace_id=e.workspace_id,
            first_name=e.first_name,
            last_name=e.last_name,
            phone=e.phone,
            email=e.email,
            # An included request is always saved together with ProvisioningStarted.
            state=(LineState.AWAITING_PAYMENT if addon else LineState.PROVISIONING).value,
            payment_status=(PaymentStatus.PENDING if addon else PaymentStatus.NOT_REQUIRED).value,
            billing=e.billing.value,
            source=e.source.value,
            channel=e.channel.value,
            line_type=e.line_type.value,
            payment_url=None,
            invoice_id=None,
            invoice_voided=False,
            daily_new_conversations_limit=e.daily_new_conversations_limit,
            daily_total_messages_limit=e.daily_total_messages_limit,
            created_at=e.timestamp,
            server_url=None,
            health_status=None,
            health_checked_at=None,
        )

    @staticmethod
    def _set_state(state: LineState) -> Callable[[Row, Any], None]:
        def handler(row: Row, e: Any) -> None:
            row["state"] = state.value

        return handler

    @staticmethod
    def _invoiced(row: Row, e: Any) -> None:
        row.update(invoice_id=e.invoice_id, payment_url=e.url)

    @staticmethod
    def _paid(row: Row, e: Any) -> None:
        row.update(invoice_id=e.invoice_id, payment_status=PaymentStatus.PAID.value)

    @staticmethod
    def _activated(row: Row, e: Any) -> None:
        row["state"] = LineState.ACTIVE.value
        row["phone"] = e.phone or row["phone"]
        row["email"] = e.email or row["email"]
        row["server_url"] = e.server_url or row.get("server_url")

    @staticmethod
    def _canceled(row: Row, e: Any) -> None:
        row.update(state=LineState.CANCELED.value, payment_status=PaymentStatus.VOID.value)

    @staticmethod
    def _invoice_voided(row: Row, e: Any) -> None:
        row["invoice_voided"] = True

    @staticmethod
    def _refunded(row: Row, e: Any) -> None:
        row["payment_status"] = PaymentStatus.REFUNDED.value

    @staticmethod
    def _server_configured(row: Row, e: Any) -> None:
        row["server_url"] = e.server_url

    @staticmethod
    def _health_checked(row: Row, e: Any) -> None:
        row.update(health_status=e.status.value, health_checked_at=e.checked_at)

    @staticmethod
    def _limits_changed(row: Row, e: Any) -> None:
        row.update(
            daily_new_conversations_limit=e.daily_new_conversations_limit,
            daily_total_messages_limit=e.daily_total_messages_limit,
        )
