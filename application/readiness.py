"""Readiness: named checks that components register, run by /readyz.

A check answers `Check(ok, detail)`; the service is ready when every check is ok. A
component registers its own (the factory registers the database and the projections; the
server registers its worker thread; a watchdog may report restarts in `detail`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = "ok"


CheckFn = Callable[[], Check]


class Readiness:
    """A registry of named checks (thread-safe)."""

    def __init__(self) -> None:
        self._checks: dict[str, CheckFn] = {}
        self._lock = threading.Lock()

    def register(self, name: str, check: CheckFn) -> None:
        """Add or replace the check called `name`."""
        with self._lock:
            self._checks[name] = check

    def unregister(self, name: str) -> None:
        with self._lock:
            self._checks.pop(name, None)

    def run(self) -> dict[str, Check]:
        """Every check's answer now, by name (in the order registered)."""
        with self._lock:
            checks = list(self._checks.items())
        return {name: check() for name, check in checks}
