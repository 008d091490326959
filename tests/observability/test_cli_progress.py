"""Long CLI work shows progress on stderr: a rich bar on a terminal, a few plain lines
otherwise (never one line per batch)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from adapters.config import Settings
from api import cli_progress
from api.bootstrap import build
from api.cli import main
from api.cli_progress import progress
from tests.audit.generate import generate

ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A SQLite store of its own with 3 workspaces of 10 requests, for the CLI."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TUCO_DATABASE_URL", url)
    monkeypatch.delenv("TUCO_BILLING", raising=False)
    services = build(Settings(database_url=url))
    try:
        generate(services, 3, 10, activate_every=2)
    finally:
        services.close()
    yield url


def terminal() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=100), buffer


def test_plain_progress_is_a_line_per_quarter_of_the_work_not_per_step() -> None:
    buffer = io.StringIO()
    with progress(Console(file=buffer, width=200)) as report:
        for done in range(0, 1001, 10):
            report("lines", done, 1000, "events", f"{done} events/s")
    lines = buffer.getvalue().splitlines()
    assert lines == [
        "lines: 0/1000 events, 0 events/s",
        "lines: 250/1000 events, 250 events/s",
        "lines: 500/1000 events, 500 events/s",
        "lines: 750/1000 events, 750 events/s",
        "lines: 1000/1000 events, 1000 events/s",
    ]


def test_on_a_terminal_progress_is_a_rich_bar() -> None:
    console, buffer = terminal()
    with progress(console) as report:
        for done in range(0, 101, 5):
            report("lines", done, 100, "events", "ignored on a terminal")
    out = buffer.getvalue()
    assert "━" in out and ANSI.search(out)  # a drawn bar, with terminal control codes
    assert "lines (events)" in out and "100/100" in out
    assert "ignored on a terminal" not in out


def test_the_rebuild_prints_a_few_plain_lines_when_stderr_is_not_a_terminal(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["projections", "rebuild", "lines"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("rebuilt lines up to position ")
    lines = err.splitlines()
    assert 1 <= len(lines) <= 5, err
    assert re.fullmatch(r"lines: (\d+)/\1 events, \d+ events/s, eta \d+s", lines[-1]), err
    assert not ANSI.search(err)


def test_audit_verify_reports_both_phases_plainly_when_not_a_terminal(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 0
    out, err = capsys.readouterr()
    assert "0 mismatches" in out
    assert re.search(r"^verify log: (\d+)/\1 positions read$", err, re.M), err
    assert re.search(r"^verify rows: 30/30 rows compared$", err, re.M), err
    assert len(err.splitlines()) <= 10


def test_the_cli_draws_a_bar_on_a_terminal(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    console, buffer = terminal()
    monkeypatch.setattr(cli_progress, "make_console", lambda: console)
    assert main(["audit", "verify"]) == 0
    assert "0 mismatches" in capsys.readouterr().out
    drawn = buffer.getvalue()
    assert "verify log (positions read)" in drawn and "verify rows (rows compared)" in drawn
    assert "━" in drawn and "30/30" in drawn
