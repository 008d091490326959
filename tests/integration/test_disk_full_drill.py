"""Drill (issue 12): the SQLite file system fills up. The database lives on a small tmpfs (needs
root to mount; skipped without it); a filler file takes the rest of the space. Writes then
answer 503, nothing is half-recorded, reads still answer, and once space returns the same server
process takes writes again and finishes its owed work, without a restart."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from adapters.config import Settings
from api.bootstrap import build
from tests.support import log_invariants
from tests.support.drills import KillableServer, audit_verify, eventually, make_workspaces

BODY = {"requestedChannelType": "phone", "firstName": "Disk", "lastName": "Full"}


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "4m") -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(path: Path) -> None:
    """Write zeros until the file system refuses (ENOSPC)."""
    with path.open("wb") as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
            f.flush()


@pytest.mark.slow
def test_writes_answer_503_on_a_full_disk_and_recover_when_space_returns(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "small") as disk:
        url = f"sqlite:///{disk / 'tuco.db'}"
        keys = make_workspaces(url)
        key = next(iter(keys.values()))
        h = {"Authorization": f"Bearer {key}"}
        server = KillableServer(url, {"TUCO_SANDBOX_PROVISION_SECONDS": "0"})
        server.start()
        try:
            created: list[str] = []

            def post(n: int) -> httpx.Response:
                headers = h | {"Idempotency-Key": f"disk-{n}"}
                return httpx.post(f"{server.url}/api/line-requests", json=BODY, headers=headers,
                                  timeout=30)  # fmt: skip

            for n in range(3):
                r = post(n)
                assert r.status_code == 201, r.text
                created.append(r.json()["line"]["_id"])
            pid = server.proc.pid if server.proc else None

            fill(disk / "filler")
            # The WAL may still have room for a few commits: write until the first refusal.
            refused: list[httpx.Response] = []
            for n in range(3, 300):
                r = post(n)
                if r.status_code == 201:
                    created.append(r.json()["line"]["_id"])
                    continue
                refused.append(r)
                break
            refused += [post(n) for n in range(1000, 1005)]
            reads = [
                httpx.get(f"{server.url}/api/line-requests/{created[0]}", headers=h, timeout=30),
                httpx.get(f"{server.url}/api/lines/by-user", headers=h, timeout=30),
            ]

            (disk / "filler").unlink()
            freed = time.monotonic()
            after = post(2000)
            recovered = time.monotonic() - freed
            assert after.status_code == 201, after.text
            created.append(after.json()["line"]["_id"])
            same_process = server.proc is not None and server.proc.pid == pid

            checker = build(Settings(database_url=url))
            try:

                def provisioned() -> bool:
                    return all(checker.app.view(UUID(r)).state.value == "active" for r in created)

                eventually(provisioned, "the worker to finish once space returned")
                report = log_invariants.check(checker.app)
            finally:
                checker.close()
        finally:
            server.stop()
        audited = audit_verify(url)

    codes = [(r.status_code, r.json()["error"]["code"]) for r in refused]
    timed = [(r.status_code, round(r.elapsed.total_seconds(), 2)) for r in reads]
    print(
        f"disk-full drill: {len(created) - 1} writes acknowledged before and after; "
        f"{len(refused)} refused with {sorted(set(codes))}; reads {timed}; first write after "
        f"space returned: 201 in {recovered:.2f} s, same process {same_process}; "
        f"{audited.stdout.strip().splitlines()[-1] if audited.stdout else audited.stderr}"
    )
    assert codes == [(503, "service_unavailable")] * len(refused)
    assert all(r.headers.get("retry-after") for r in refused)
    assert [r.status_code for r in reads] == [200, 200]
    assert same_process
    # Nothing half-recorded: exactly the acknowledged requests are in the log.
    assert report.requests == len(created)
    assert report.violations == []
    assert audited.returncode == 0, audited.stdout + audited.stderr
