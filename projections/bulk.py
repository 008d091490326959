"""Many-row upserts through the driver.

SQLAlchemy's executemany processes every bound value in Python (type checks, a dict per
row); for a read model rebuilt from the whole log that was most of the time spent writing.
Here the statement is compiled once per dialect and column set, and only values whose type
really needs converting for the driver (DateTime on SQLite, stored as text) are converted.
The stored values are the same as through `conn.execute(insert(...), rows)`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Connection, Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite

Row = dict[str, Any]
Convert = Callable[[Any], Any] | None
Plan = tuple[
    str, bool, tuple[str, ...], Callable[[Row], tuple[Any, ...]], tuple[tuple[int, Any], ...]
]


class Bound(NamedTuple):
    sql: str
    key: int | str  # the key column's index in each row's tuple, or its name in each dict
    params: list[Any]  # a tuple (or, for drivers with named parameters, a dict) per row

    def key_of(self, params: Any) -> Any:
        return params[self.key]

    def only(self, params: Any) -> Bound:
        return self._replace(params=[params])


class Upsert:
    """`INSERT … ON CONFLICT (key) DO UPDATE` of every column but `key` and `keep`."""

    def __init__(self, table: Table, key: str = "id", keep: Sequence[str] = ()) -> None:
        self.table = table
        self.key = key
        self.keep = frozenset((key, *keep))
        self._plans: dict[tuple[str, tuple[str, ...]], Plan] = {}

    def __call__(self, conn: Connection, rows: Sequence[Row]) -> None:
        if rows:
            self.execute(conn, self.bind(conn.dialect, rows))

    def bind(self, dialect: Dialect, rows: Sequence[Row]) -> Bound:
        """The statement and its parameters for `rows` (all with the same columns): what
        `execute` runs, so it can be computed in another process (projections.parallel)."""
        columns = tuple(rows[0])
        plan = self._plans.get((dialect.name, columns))
        if plan is None:
            plan = self._plans[(dialect.name, columns)] = self._plan(dialect, columns)
        sql, positional, names, pick, converts = plan
        # Values in the statement's order in one C call per row; only the few columns that
        # need it (DateTime on SQLite) are converted, in place.
        values: list[Any] = [pick(row) for row in rows]
        if converts:
            values = [list(v) for v in values]
            for v in values:
                for index, convert in converts:
                    value = v[index]
                    if value is not None:
                        v[index] = convert(value)
        params: list[Any]
        if positional:
            params = [tuple(v) for v in values] if converts else values
        else:
            params = [dict(zip(names, v, strict=True)) for v in values]
        return Bound(sql, names.index(self.key) if positional else self.key, params)

    def execute(self, conn: Connection, bound: Bound) -> None:
        if bound.params:
            conn.exec_driver_sql(bound.sql, bound.params)

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
        converters = [_converter(t.c[name].type, dialect) for name in order]
        converts = tuple((i, c) for i, c in enumerate(converters) if c is not None)
        pick: Callable[[Row], Any] = operator.itemgetter(*order)
        if len(order) == 1:  # an itemgetter of one name returns the value, not a tuple
            only = order[0]

            def pick(row: Row) -> Any:
                return (row[only],)

        return str(compiled), bool(compiled.positional), tuple(order), pick, converts


def _converter(column_type: Any, dialect: Dialect) -> Convert:
    if isinstance(column_type, Boolean):
        return None  # both drivers take a Python bool as is (SQLite stores 0/1, as before)
    return column_type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]
