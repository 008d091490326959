"""`expand[]` support: replace id strings by the objects they name (`expand[]=latest_charge`,
`expand[]=data.payment.payment_intent` on lists, `expand[]=payments` on invoices)."""

from __future__ import annotations

import copy
from typing import Any

from .errors import invalid_param
from .objects import list_object
from .payments import invoice_payments_for
from .store import Obj, Store


def expand(store: Store, obj: Obj, paths: list[str]) -> Obj:
    """A deep copy of `obj` with each dotted path expanded (unknown paths are a 400)."""
    result = copy.deepcopy(obj)
    for index, path in enumerate(paths):
        _expand(store, result, path.split("."), f"expand[{index}]", path)
    return result


def _expand(store: Store, node: Any, parts: list[str], param: str, path: str) -> None:
    if not isinstance(node, dict):
        return
    key, rest = parts[0], parts[1:]
    if node.get("object") == "list" and key == "data":
        for item in node["data"]:
            if rest:
                _expand(store, item, rest, param, path)
        return
    if key == "payments" and node.get("object") == "invoice":
        payments = copy.deepcopy(invoice_payments_for(store, node["id"]))
        node["payments"] = list_object(payments, f"/v1/invoices/{node['id']}/payments")
    elif key not in node:
        raise invalid_param(param, f"This property cannot be expanded ({path}).")
    value = node[key]
    if isinstance(value, str):
        found = store.find(value)
        if found is None:
            raise invalid_param(param, f"This property cannot be expanded ({path}).")
        node[key] = value = copy.deepcopy(found)
    if rest:
        _expand(store, value, rest, param, path)
