"""Readers of single `TUCO_*` values: each refuses a malformed one with a one-line
`ConfigError` naming the variable (used by `adapters.config.Settings.from_env`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from adapters.config_rules import ConfigError

T = TypeVar("T")


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    return _parsed(env, name, default, int, "a whole number")


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    return _parsed(env, name, default, float, "a number")


def _parsed(
    env: Mapping[str, str], name: str, default: T, parse: Callable[[str], T], what: str
) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {what}, not {raw!r}") from None


def env_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = env_float(env, name, default)
    if value < 0 or value != value:  # NaN is not a duration either
        raise ConfigError(f"{name} must be a number of seconds, 0 or more, not {value!r}")
    return value


def env_opt(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name, "").strip() or None


def plan_prices(raw: str) -> dict[str, str]:
    """`mini=price_1,starter=price_2` → {"price_1": "mini", …} (price id → plan name)."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        plan, _, price = part.partition("=")
        if not price or plan.strip() not in ("mini", "starter", "growth"):
            raise ConfigError(f"TUCO_STRIPE_PLAN_PRICES: expected plan=price_id, not {part!r}")
        mapping[price.strip()] = plan.strip()
    return mapping


def cors_origins(raw: str) -> tuple[str, ...]:
    """`https://a.example,https://b.example` (scheme://host[:port], no path) or `*`."""
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if origin != "*" and (scheme not in ("http", "https") or not rest or "/" in rest):
            raise ConfigError(f"TUCO_CORS_ORIGINS: {origin!r} is not an http(s) origin")
    return origins


def log_level(env: Mapping[str, str], default: str) -> str:
    raw = env.get("TUCO_LOG_LEVEL", "").strip().upper() or default
    if raw not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"TUCO_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {raw!r}")
    return raw


def log_format(env: Mapping[str, str]) -> str:
    raw = env.get("TUCO_LOG_FORMAT", "").strip().lower() or "json"
    if raw not in ("json", "console"):
        raise ConfigError(f"TUCO_LOG_FORMAT must be 'json' or 'console', not {raw!r}")
    return raw
