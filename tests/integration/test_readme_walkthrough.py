"""The README's walk-through, run as written by bash against a real `tuco serve` with what
`make run` sets, twice, with `make clean-data` and a restart in between."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support.server import running_server

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parents[1]
# The status of each answer, in the README's order.
STATUSES = [403, 201, 201, 200, 409, 200, 200, 409, 201, 200, 200, 200, 200, 200, 200,
            200, 200, 200, 422, 200, 200]  # fmt: skip


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Walk-through") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the walk-through has no sh block"
    return match[1]


def make_run_token() -> str:
    """The TUCO_INTERNAL_TOKEN that `make run` gives `tuco serve` (its recipe, not run)."""
    out = subprocess.run(["make", "-n", "-s", "-C", str(ROOT), "run"], text=True,
                         capture_output=True, check=True).stdout  # fmt: skip
    found = re.search(r"TUCO_INTERNAL_TOKEN='([^']+)' \S*tuco serve", out)
    assert found, f"make run does not set TUCO_INTERNAL_TOKEN: {out}"
    return found[1]


def run_once(folder: Path) -> list[str]:
    """`make run` (as the Makefile would start it) and the walk-through; its output lines."""
    token = make_run_token()
    env = {"TUCO_INTERNAL_TOKEN": token, "TUCO_LOG_LEVEL": "WARNING"}
    with running_server(f"sqlite:///{folder / 'tuco.db'}", env=env) as base_url:
        shell_env = {k: v for k, v in os.environ.items() if not k.startswith("TUCO_")}
        shell_env["PORT"] = base_url.rsplit(":", 1)[1]
        done = subprocess.run(["bash", "-c", walkthrough()], cwd=folder, env=shell_env,
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout
    return done.stdout.splitlines()


@pytest.mark.slow
def test_the_walkthrough_runs_as_written_and_again_after_make_clean_data(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(VENV)  # the folder a clone would have after make install
    for run in (1, 2):
        out = run_once(tmp_path)
        assert not any("already exists" in line for line in out), (run, out)
        statuses = [int(line[5:]) for line in out if re.fullmatch(r"HTTP \d{3}", line)]
        assert statuses == STATUSES, (run, out)
        bodies = [orjson.loads(line) for line in out if line.startswith("{")]
        assert bodies[0]["error"]["code"] == "channel_not_available"
        assert [b["error"]["code"] for b in bodies if "error" in b] == [
            "channel_not_available", "payment_pending", "invalid_transition", "validation_error",
        ]  # fmt: skip
        [newest] = bodies[-1]["lines"]
        assert (newest["provisioningStatus"], newest["usage"]["newMessages"],
                newest["usage"]["totalMessages"]) == ("active", 1, 3)  # fmt: skip
        pages = [b for b in bodies if "data" in b]
        assert [(len(p["data"]), p["has_more"]) for p in pages] == [(2, True), (1, False)]
        cleaned = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "clean-data"],
                                 cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
        assert cleaned.returncode == 0, cleaned.stderr
        assert not (tmp_path / "tuco.db").exists()
