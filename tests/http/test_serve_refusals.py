"""`tuco serve` refuses unsafe start-ups in one line (exit 2, no traceback) before it binds
anything (security review, findings 6 and 7)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.server import TUCO, free_port

# TEST-NET-1 (RFC 5737): never assigned to this machine, so a serve that got past the check
# could not bind it either (it would fail with a different message and a traceback).
UNREACHABLE_HOST = "192.0.2.1"


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TUCO_", "STRIPE_"))}
    clean["TUCO_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    return subprocess.run(
        [TUCO, "serve", "--port", str(free_port()), *args],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line_refusal(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


def test_serve_on_a_public_address_refuses_the_implicit_sandbox(tmp_path: Path) -> None:
    done = serve(tmp_path, "--host", UNREACHABLE_HOST)
    one_line_refusal(done, UNREACHABLE_HOST, "TUCO_BILLING=sandbox")
    assert not (tmp_path / "serve.db").exists()  # refused before anything was opened


def test_serve_on_a_public_address_with_the_sandbox_asked_for_gets_past_the_check(
    tmp_path: Path,
) -> None:
    done = serve(tmp_path, "--host", UNREACHABLE_HOST, TUCO_BILLING="sandbox")
    assert "TUCO_BILLING=sandbox" not in done.stderr  # it went on, and failed to bind
    assert (tmp_path / "serve.db").exists()


@pytest.mark.parametrize("tolerance", ["0", "601"])
def test_serve_refuses_a_webhook_tolerance_outside_1_to_600(tmp_path: Path, tolerance: str) -> None:
    done = serve(
        tmp_path,
        TUCO_BILLING="stripe",
        TUCO_PROVISIONER="manual",
        STRIPE_API_KEY="sk_test_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
        TUCO_INTERNAL_TOKEN="internal-x",
        TUCO_STRIPE_WEBHOOK_TOLERANCE=tolerance,
    )
    one_line_refusal(done, "TUCO_STRIPE_WEBHOOK_TOLERANCE")
