"""The checks /readyz runs that the factory registers: the database answers, and this
process's projections are not stalled, nor still catching up from far behind when it
starts (the server adds its worker thread)."""

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

    caught_up = False  # once near the head, this process follows (stalls still show)

    def projections() -> Check:
        nonlocal caught_up
        why = follower.stalled()
        if why is not None:
            return Check(False, f"stalled: {why}")
        if caught_up:
            return Check(True, f"applied up to position {follower.reached}")
        try:
            position, head = follower.runner.position(), follower.runner.head()
        except SQLAlchemyError as e:
            return Check(False, f"unreadable: {str(e).splitlines()[0][:200]}")
        if head - position > follower.far_behind:
            # A read model catching up from far behind as this process starts (a fresh one
            # over a big log): list reads would wait on it, so no traffic yet. Only until it
            # is near the head once: a burst later must not take every process out at once.
            return Check(False, f"catching up: at position {position} of {head}")
        caught_up = True
        return Check(True, f"applied up to position {position} of {head}")

    readiness.register("database", reachable)
    readiness.register("projections", projections)
