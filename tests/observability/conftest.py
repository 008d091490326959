"""Fixtures for the observability tests: JSON logs captured from this process."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator

import orjson
import pytest
import structlog
from sqlalchemy.exc import OperationalError

from adapters.logs import configure_logging
from api.bootstrap import Services


class CapturedLogs:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self, **match: object) -> list[dict[str, object]]:
        """The JSON lines whose fields have these values."""
        found = [orjson.loads(line) for line in self.text.splitlines() if line.startswith("{")]
        return [x for x in found if all(x.get(k) == v for k, v in match.items())]


@pytest.fixture
def json_logs() -> Iterator[CapturedLogs]:
    """This process's logs as JSON lines at INFO, into a buffer (restored afterwards)."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    captured = CapturedLogs()
    configure_logging("INFO", "json", secrets=["sk_test_emulator"], stream=captured.stream)
    try:
        yield captured
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        structlog.reset_defaults()


def wait_until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)  # polling a condition with a deadline


def stall_projections(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every projection pass fail as if the database were gone, and count the
    follower stalled at once; returns when it is."""

    def gone(*args: object) -> int:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    follower = services.read_model.follower
    monkeypatch.setattr(services.runner, "catch_up", gone)
    monkeypatch.setattr(follower, "stall_seconds", 0.0)
    wait_until(lambda: follower.stalled() is not None, "the follower to stall")
