"""Schema migration for the SQL tables: create missing tables, add missing columns."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from adapters.config import ConfigError


def migrate(engine: Engine, metadata: MetaData) -> list[str]:
    """Bring `metadata`'s tables up to date; returns the `table.column`s that were added.
    Safe to run again and from several processes (a lost race is a no-op)."""
    try:
        metadata.create_all(engine)
    except (OperationalError, ProgrammingError):
        metadata.create_all(engine)  # another process created a table meanwhile
    added: list[str] = []
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        existing = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in existing:
                continue
            if not column.nullable:
                raise ConfigError(f"cannot add NOT NULL column {table.name}.{column.name}")
            kind = column.type.compile(engine.dialect)
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))
            except (OperationalError, ProgrammingError):
                continue  # added by another process
            added.append(f"{table.name}.{column.name}")
    return added
