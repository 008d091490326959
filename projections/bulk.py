"""Many-row upserts through the driver.

SQLAlchemy's executemany processes every bound value in Python (type checks, a dict per
row); for a read model rebuilt from the whole log that was most of the time spent writing.
Here the statement is compiled once per dialect and column set, and only values whose type
really needs converting for the driver (DateTime on SQLite, stored as text) are converted.
The stored values are the same as through `conn.execute(insert(...), rows)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Boolean, Connection, Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite

Row = dict[str, Any]
Convert = Callable[[Any], Any] | None
Plan = tuple[str, bool, tuple[tuple[str, Convert], ...]]


class Upsert:
    """`INSERT … ON CONFLICT (key) DO UPDATE` of every column but `key` and `keep`."""

    def __init__(self, table: Table, key: str = "id", keep: Sequence[str] = ()) -> None:
        self.table = table
        self.key = key
        self.keep = frozenset((key, *keep))
        self._plans: dict[tuple[str, tuple[str, ...]], Plan] = {}

    def __call__(self, conn: Connection, rows: Sequence[Row]) -> None:
        if not rows:
            return
        columns = tuple(rows[0])
        plan = self._plans.get((conn.dialect.name, columns))
        if plan is None:
            plan = self._plans[(conn.dialect.name, columns)] = self._plan(conn.dialect, columns)
        sql, positional, converters = plan
        values = [
            [row[name] if convert is None else convert(row[name]) for name, convert in converters]
            for row in rows
        ]
        names = [name for name, _ in converters]
        params: list[Any]
        if positional:
            params = [tuple(v) for v in values]
        else:
            params = [dict(zip(names, v, strict=True)) for v in values]
        conn.exec_driver_sql(sql, params)

    def _plan(self, dialect: Dialect, columns: tuple[str, ...]) -> Plan:
        t = self.table
        insert = (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(t)
        stmt = insert.on_conflict_do_update(
            index_elements=[t.c[self.key]],
            set_={name: insert.excluded[name] for name in columns if name not in self.keep},
        )
        compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
        order = compiled.positiontup if compiled.positional else columns
        if order is None or sorted(order) != sorted(columns):
            raise RuntimeError(f"unexpected parameters for an upsert of {t.name}: {order}")
        converters = tuple((name, _converter(t.c[name].type, dialect)) for name in order)
        return str(compiled), bool(compiled.positional), converters


def _converter(column_type: Any, dialect: Dialect) -> Convert:
    if isinstance(column_type, Boolean):
        return None  # both drivers take a Python bool as is (SQLite stores 0/1, as before)
    processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return None
    return lambda value: None if value is None else processor(value)
