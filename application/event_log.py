"""Application events at INFO: one line per recorded change that an operator follows
(requested, invoiced, paid, provisioning, activated, failed, canceled, refunded, ...).

Logged by the writer's thread right after the events are stored; nothing is done when INFO
is off. Only ids, states, amounts and reasons are logged: no names, phones or addresses."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

log = logging.getLogger("tuco.events")
LOGGED = {
    "Requested": "requested",
    "Invoiced": "invoiced",
    "InvoiceVoided": "invoice_voided",
    "Paid": "paid",
    "ProvisioningStarted": "provisioning",
    "Activated": "activated",
    "ProvisioningFailed": "failed",
    "Canceled": "canceled",
    "Refunded": "refunded",
}
FIELDS = (
    "channel",
    "line_type",
    "billing",
    "source",
    "amount",
    "reason",
    "by",
    "invoice_id",
    "refund_id",
)


def log_recorded(recordings: Sequence[Any], aggregates: Iterable[Any]) -> None:
    """`recordings` from `Application.save`; `aggregates`, what was saved."""
    if not log.isEnabledFor(logging.INFO):
        return
    workspace_of = {a.id: getattr(a, "workspace_id", None) for a in aggregates}
    for r in recordings:
        event = r.domain_event
        name = LOGGED.get(type(event).__name__)
        if name is None:
            continue
        extra: dict[str, Any] = {
            "event_type": name,
            "line_request": str(event.originator_id),
            "workspace": workspace_of.get(event.originator_id),
            "version": event.originator_version,
            "position": r.notification.id,
        }
        for key in FIELDS:
            value = getattr(event, key, None)
            if value is not None:
                extra[key] = value
        log.info("line request %s", name, extra=extra)
