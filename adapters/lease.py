"""A leader lease in SQL: one process at a time runs the background worker."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from adapters.database import store_errors
from adapters.schema import leases
from application.errors import ServiceBusy


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SqlLease:
    """Held by whoever renewed it last, until `ttl` passes without renewal; a dead
    leader's lease expires and another process takes over."""

    def __init__(self, engine: Engine, name: str, holder: str, ttl: float = 5.0) -> None:
        self.engine = engine
        self.name = name
        self.holder = holder
        self.ttl = timedelta(seconds=ttl)
        self._held_until: datetime | None = None

    def acquire(self) -> bool:
        """Take or renew the lease; False when another live holder has it, or when the
        database cannot say. A lease renewed less than a third of its time ago is not
        renewed again (no database round trip)."""
        try:
            return self.try_acquire()
        except ServiceBusy:
            return False

    def try_acquire(self) -> bool:
        """As `acquire`, but a database that cannot be reached or written raises
        `ServiceBusy` instead of counting as another holder."""
        now = datetime.now(UTC)
        if self._held_until is not None and self._held_until - now > self.ttl * 2 / 3:
            return True
        held = self._take(now)
        self._held_until = now + self.ttl if held else None
        return held

    def _take(self, now: datetime) -> bool:
        try:
            with store_errors(), self.engine.begin() as conn:
                row = conn.execute(
                    select(leases).where(leases.c.name == self.name).with_for_update()
                ).first()
                if row is None:
                    conn.execute(
                        leases.insert().values(
                            name=self.name, holder=self.holder, expires_at=now + self.ttl
                        )
                    )
                    return True
                expires = row.expires_at
                if expires.tzinfo is None:
                    expires = expires.replace(tzinfo=UTC)
                if row.holder != self.holder and expires > now:
                    return False
                conn.execute(
                    leases.update()
                    .where(leases.c.name == self.name)
                    .values(holder=self.holder, expires_at=now + self.ttl)
                )
                return True
        except IntegrityError:  # another process inserted it first: theirs
            return False

    def release(self) -> None:
        self._held_until = None
        with store_errors(), self.engine.begin() as conn:
            conn.execute(
                leases.delete().where(leases.c.name == self.name, leases.c.holder == self.holder)
            )
