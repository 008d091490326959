"""The checks /readyz runs that the factory registers: the database answers, and this
process's projections are neither stalled nor far behind the log (the server adds its
worker thread)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from adapters.database import Database
from application.readiness import Check, Readiness
from projections.follower import Follower


def register_checks(readiness: Readiness, database: Database, follower: Follower) -> None:
    engine = database.read_engine

    def reachable() -> Check:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as e:
            return Check(False, f"unreachable: {str(e).splitlines()[0][:200]}")
        return Check(True, f"{database.dialect} reachable")

    def projections() -> Check:
        why = follower.stalled()
        if why is not None:
            return Check(False, f"stalled: {why}")
        try:
            position, head = follower.runner.position(), follower.runner.head()
        except SQLAlchemyError as e:
            return Check(False, f"unreadable: {str(e).splitlines()[0][:200]}")
        if head - position > follower.far_behind:
            # A read model catching up from far behind (a fresh one over a big log): list
            # reads would wait on it, so this process should not take traffic yet.
            return Check(False, f"catching up: at position {position} of {head}")
        return Check(True, f"applied up to position {position} of {head}")

    readiness.register("database", reachable)
    readiness.register("projections", projections)
