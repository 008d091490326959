"""What a rebuild's fold worker opens (projections.parallel): the event log, to read."""

from __future__ import annotations

from sqlalchemy import Engine

from adapters.database import open_reader
from application.app import LinesApp
from projections.eventlog import ApplicationLog


def open_log(database_url: str, timeout: float) -> tuple[ApplicationLog, Engine]:
    """Runs in the worker: its own engine and mapper, nothing created by the parent."""
    env, engine = open_reader(database_url, timeout)
    return ApplicationLog(LinesApp(env=env)), engine
