"""The installed version of this service (`tuco --version`, logs, /metrics)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def service_version() -> str:
    try:
        return version("tuco-lines")
    except PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"
