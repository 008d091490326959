"""Progress of long CLI work (projections rebuild, audit verify) on stderr: a rich progress
bar on a terminal; otherwise (a pipe, a log file, CI) a few plain lines, one each time a
quarter of the work is done, and the last one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

STEPS = 4  # plain lines per task: at 25%, 50%, 75% and 100%


class Report(Protocol):
    def __call__(self, task: str, done: int, total: int, unit: str, detail: str = "") -> None:
        """`done` of `total` `unit`s of `task` (e.g. "lines", 40, 100, "events"); `detail`
        is shown in the plain lines only (a rate, an estimate)."""


def make_console() -> Console:
    """The console progress goes to (tests replace it)."""
    return Console(stderr=True)


class _Bars:
    def __init__(self, bars: Progress) -> None:
        self.bars = bars
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, task: str, done: int, total: int, unit: str, detail: str = "") -> None:
        if task not in self.tasks:
            self.tasks[task] = self.bars.add_task(f"{task} ({unit})", total=max(total, 1))
        self.bars.update(self.tasks[task], completed=done, total=max(total, done, 1))


class _Lines:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.shown: dict[str, int] = {}

    def __call__(self, task: str, done: int, total: int, unit: str, detail: str = "") -> None:
        step = STEPS if done >= total else done * STEPS // max(total, 1)
        if task in self.shown and step <= self.shown[task]:
            return
        self.shown[task] = step
        suffix = f", {detail}" if detail else ""
        line = f"{task}: {done}/{total} {unit}{suffix}"
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)


@contextlib.contextmanager
def progress(console: Console | None = None) -> Iterator[Report]:
    """Report progress while the block runs (a bar on a terminal, else plain lines)."""
    console = console or make_console()
    if not console.is_terminal:
        yield _Lines(console)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bars:
        yield _Bars(bars)
