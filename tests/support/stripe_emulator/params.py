"""Decoding of Stripe's form encoding (what `stripe._encode._api_encode` produces) and typed
access to the decoded values.

The SDK flattens nested params into bracketed keys: `metadata[workspace_id]=w1`,
`expand[0]=lines`, `pricing[price]=price_123`, `payment[payment_intent]=pi_1`; booleans travel as
`true`/`false` and every value arrives as a string. `decode` rebuilds the nesting; dicts whose keys
are all indices become lists.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import EmulatedStripeError, invalid_param, missing_param

Params = dict[str, Any]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode(raw: str) -> Params:
    """Turn a query string or form body into nested dicts and lists of strings."""
    root: Params = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        match = _KEY.match(key)
        if match is None:
            raise invalid_param(key, f"Invalid parameter name: {key}")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            name = str(len(node)) if part == "" else part  # `expand[]=a` appends
            if depth == len(parts) - 1:
                node[name] = value
                break
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise invalid_param(parts[0], f"Invalid value for {parts[0]}: mixed types.")
            node = child
    return {key: _listify(value) for key, value in root.items()}


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {key: _listify(item) for key, item in value.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def required(params: Params, name: str) -> str:
    """A required string param, or Stripe's `parameter_missing` error."""
    value = params.get(name)
    if value is None or value == "":
        raise missing_param(name)
    if not isinstance(value, str):
        raise invalid_param(name, f"Invalid string: {value!r}", "parameter_invalid_string")
    return value


def optional_str(params: Params, name: str) -> str | None:
    """An optional string param (an empty string counts as absent)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_param(name, f"Invalid string: {value!r}", "parameter_invalid_string")
    return value


def optional_int(params: Params, name: str, *, minimum: int | None = None) -> int | None:
    """An optional integer param; Stripe answers `parameter_invalid_integer` for junk."""
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise invalid_param(
            name, f"Invalid integer: {value}", "parameter_invalid_integer"
        ) from None
    if minimum is not None and number < minimum:
        message = (
            "Invalid positive integer" if minimum == 1 else f"This value must be >= {minimum}."
        )
        raise invalid_param(name, message, "parameter_invalid_integer")
    return number


def optional_bool(params: Params, name: str) -> bool | None:
    """An optional boolean param (`true`/`false`, as the SDK sends Python booleans)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if value in ("true", "false"):
        return bool(value == "true")
    raise invalid_param(name, f"Invalid boolean: {value}", "parameter_invalid_boolean")


def one_of(params: Params, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    """An optional enum param."""
    value = optional_str(params, name)
    if value is None:
        return default
    if value not in allowed:
        raise invalid_param(
            name, f"Invalid {name}: must be one of {', '.join(allowed)}", "parameter_invalid_string"
        )
    return value


def metadata(params: Params, current: dict[str, str] | None = None) -> dict[str, str]:
    """Merge `metadata[...]` into `current` the way Stripe does: an empty value unsets a key and
    `metadata=` (empty) clears everything."""
    merged = dict(current or {})
    value = params.get("metadata")
    if value is None:
        return merged
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid_param("metadata", "Invalid object", "parameter_invalid_object")
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid_param(f"metadata[{key}]", "Invalid string", "parameter_invalid_string")
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = item
    return merged


def expand_paths(params: Params) -> list[str]:
    """The `expand[]` paths, as a list of dotted strings."""
    value = params.get("expand")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise invalid_param("expand", "Invalid array", "parameter_invalid_array")


__all__ = [
    "EmulatedStripeError",
    "Params",
    "decode",
    "expand_paths",
    "metadata",
    "one_of",
    "optional_bool",
    "optional_int",
    "optional_str",
    "required",
]
