"""Counters the application keeps for /metrics, without a metrics library: each is a
thread-safe tally by label values, read when /metrics is scraped (the API renders them in
the Prometheus format). Incrementing one costs a lock and a dict update."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


class Tally:
    """A counter by label values, e.g. `Tally("outcome").inc("delivered")`."""

    def __init__(self, name: str, doc: str, *labels: str) -> None:
        self.name = name
        self.doc = doc
        self.labels = labels
        self._counts: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, *values: str, by: float = 1.0) -> None:
        """Add `by` to the count of these label values (one value per label)."""
        if len(values) != len(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, got {values}")
        with self._lock:
            self._counts[values] = self._counts.get(values, 0.0) + by

    def counts(self) -> dict[tuple[str, ...], float]:
        with self._lock:
            return dict(self._counts)


def command_tally() -> Tally:
    return Tally(
        "tuco_commands",
        "Commands decided by the writer, by outcome (ok, refused, unavailable, error) and "
        "reason (the refusal's error class)",
        "outcome",
        "reason",
    )


@dataclass
class Metrics:
    """What the application counts; one per process (built by the factory). Components
    increment these; /metrics reads them."""

    commands: Tally = field(default_factory=command_tally)
    stripe_webhooks: Tally = field(
        default_factory=lambda: Tally(
            "tuco_stripe_webhooks",
            "Stripe webhooks received, by event type and outcome (handled, duplicate, "
            "ignored, invalid_signature)",
            "type",
            "outcome",
        )
    )
    deliveries: Tally = field(
        default_factory=lambda: Tally(
            "tuco_outbound_deliveries",
            "Outbound deliveries (webhooks, provisioning orders), by kind and outcome",
            "kind",
            "outcome",
        )
    )

    def tallies(self) -> list[Tally]:
        return [self.commands, self.stripe_webhooks, self.deliveries]
