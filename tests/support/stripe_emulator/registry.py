"""The route table the `api_*` modules register their handlers in, and list filtering."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

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
    with `__` reaches into a nested dict (`payment__type`)."""
    wanted = {key: value for key, value in filters.items() if value is not None}
    items = [
        obj
        for obj in store.tables[kind].values()
        if all(_field(obj, key) == value for key, value in wanted.items())
    ]
    return store.page(items, params, url)


def _field(obj: Obj, dotted: str) -> Any:
    value: Any = obj
    for part in dotted.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value
