"""The route table the `api_*` modules register their handlers in, and list filtering."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import invalid_param
from .params import Params
from .store import Obj, Store

Handler = Callable[..., Obj]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
_ID = r"([A-Za-z0-9_]+)"


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register a handler for `method` on `/v1` + `pattern` (`{id}` matches one id). Handlers
    take the store, the decoded params and the path ids, and return the object to answer."""

    def register(handler: Handler) -> Handler:
        regex = re.compile("^/v1" + pattern.replace("{id}", _ID) + "$")
        ROUTES.append((method, regex, handler))
        return handler

    return register


def filtered(store: Store, kind: str, params: Params, url: str, **filters: Any) -> Obj:
    """A page of `kind` objects whose fields equal the given (non-None) filters; a filter name
    with `__` reaches into a nested dict (`payment__type`). `created` in the params bounds the
    creation time as Stripe's lists do: a timestamp, or any of `gt`, `gte`, `lt`, `lte`."""
    wanted = {key: value for key, value in filters.items() if value is not None}
    within = _created_range(params.get("created"))
    items = [
        obj
        for obj in store.tables[kind].values()
        if all(_field(obj, key) == value for key, value in wanted.items())
        and within(int(obj.get("created", 0)))
    ]
    return store.page(items, params, url)


_BOUNDS: dict[str, Callable[[int, int], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _created_range(given: Any) -> Callable[[int], bool]:
    if given is None:
        return lambda created: True
    if not isinstance(given, dict):
        exact = _timestamp(given)
        return lambda created: created == exact
    unknown = set(given) - set(_BOUNDS)
    if unknown:
        raise invalid_param(f"created[{sorted(unknown)[0]}]", "Received unknown parameter.")
    bounds = [(_BOUNDS[op], _timestamp(value)) for op, value in given.items()]
    return lambda created: all(test(created, limit) for test, limit in bounds)


def _timestamp(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid_param("created", f"Invalid integer: {value}") from None


def _field(obj: Obj, dotted: str) -> Any:
    value: Any = obj
    for part in dotted.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value
