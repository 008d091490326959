"""The table: every figure, the baseline it is compared with, the ratio, and the target."""

from __future__ import annotations

import json
import math
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

UNIT_KEYS = {"rps": "rps", "ev/s": "events_per_s", "ms": "p50_ms", "ms p99": "p99_ms"}


@dataclass
class Row:
    section: str
    backend: str
    measure: str
    result: dict[str, Any] = field(repr=False)
    unit: str  # "rps", "ev/s", "ms" (the value is the p50 latency) or "ms p99"
    baseline: str | None = None
    ratio: float | None = None
    target: float | None = None
    at_most: bool = False  # the ratio must be <= target instead of >=
    absolute: bool = False  # the target is for the value itself (say, p99 in ms), not a ratio
    note: str = ""

    @property
    def value(self) -> float:
        key = UNIT_KEYS.get(self.unit, "p50_ms")
        return float(self.result.get(key, math.nan))

    @property
    def met(self) -> bool | None:
        measured = self.value if self.absolute else self.ratio
        if self.target is None or measured is None or math.isnan(measured):
            return None
        return measured <= self.target if self.at_most else measured >= self.target

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["result"] = {k: v for k, v in self.result.items() if k != "error_samples"}
        data["value"] = self.value
        data["met"] = self.met
        return data


def _num(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def table(rows: list[Row]) -> str:
    header = [
        "#",
        "backend",
        "measure",
        "value",
        "unit",
        "p50_ms",
        "p99_ms",
        "baseline",
        "ratio",
        "target",
        "met",
    ]
    lines = [header]
    for r in rows:
        target = "-" if r.target is None else f"{'<=' if r.at_most else '>='} {r.target:g}"
        target += f" {r.unit.split()[0]}" if r.absolute and r.target is not None else ""
        met = {None: "", True: "yes", False: "NO"}[r.met]
        lines.append(
            [
                r.section,
                r.backend,
                r.measure,
                _num(r.value),
                r.unit,
                _num(r.result.get("p50_ms"), 2),
                _num(r.result.get("p99_ms"), 2),
                r.baseline or "",
                "" if r.ratio is None else _num(r.ratio, 3),
                target,
                met,
            ]
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append(" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
        if n == 0:
            out.append("-+-".join("-" * w for w in widths))
    return "\n".join(out)


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def meta(root: Path) -> dict[str, Any]:
    dirty = _git("-C", str(root), "status", "--porcelain", "--untracked-files=no")
    return {
        "commit": _git("-C", str(root), "rev-parse", "--short", "HEAD") or None,
        "tree_dirty": bool(dirty),
        "python": platform.python_version(),
        "cpus": _cpus(),
    }


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def write_json(path: Path, rows: list[Row], extra: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**extra, "rows": [r.to_json() for r in rows], "table": table(rows).splitlines()}
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
