"""A store written by `main` at 08d8a9d, holding the event that took that version down:
`tuco lines limits ID --new-conversations 99999999999999999999999` recorded a LimitsChanged
its projection could not store (SQLite INTEGER overflow). The fixture is that very file,
made with that commit's CLI. After `tuco db upgrade` it opens and serves: the upcaster reads
the out-of-range limit as the largest storable one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from domain.bounds import MAX_COUNT
from tests.support.server import TUCO, running_server

FIXTURE = Path(__file__).parent.parent / "fixtures" / "store-08d8a9d-limits-overflow.sqlite"
OVERFLOWED = "ce47c3fb-ad0b-5080-9434-29cf90ca5409"  # the line whose limits overflowed
OTHER = "c8012b29-f8ce-59da-bada-34470e91336b"


@pytest.fixture
def old_store(tmp_path: Path) -> str:
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, path)
    return f"sqlite:///{path}"


def tuco(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"TUCO_DATABASE_URL": url, "PATH": str(Path(TUCO).parent)}
    return subprocess.run([TUCO, *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_the_old_store_opens_after_db_upgrade_and_serves(old_store: str) -> None:
    upgraded = tuco(old_store, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    key = tuco(old_store, "keys", "create", "acme").stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}

    with running_server(old_store, "--no-worker") as base:
        one = httpx.get(f"{base}/api/line-requests/{OVERFLOWED}", headers=headers)
        assert one.status_code == 200, one.text
        assert one.json()["line"]["dailyNewConversationsLimit"] == MAX_COUNT
        listed = httpx.get(f"{base}/api/lines/by-user", headers=headers)
        assert listed.status_code == 200, listed.text
        by_id = {line["_id"]: line for line in listed.json()["lines"]}
        assert set(by_id) == {OVERFLOWED, OTHER}
        assert by_id[OVERFLOWED]["dailyNewConversationsLimit"] == MAX_COUNT
        body = {"requestedChannelType": "email", "firstName": "New", "lastName": "Line",
                "email": "new@example.com"}  # fmt: skip
        new = httpx.post(f"{base}/api/line-requests", json=body, headers=headers)
        assert new.status_code == 201, new.text

    verified = tuco(old_store, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    status = tuco(old_store, "projections", "status")
    assert "set aside:" not in status.stdout, status.stdout


def test_a_limit_out_of_range_is_refused_by_the_cli_and_records_nothing(old_store: str) -> None:
    assert tuco(old_store, "db", "upgrade").returncode == 0
    before = tuco(old_store, "audit", OVERFLOWED, "--json").stdout
    refused = tuco(old_store, "lines", "limits", OVERFLOWED, "--new-conversations", "9" * 23)
    assert refused.returncode != 0
    assert refused.stderr.strip().count("\n") == 0 and "Traceback" not in refused.stderr
    assert tuco(old_store, "audit", OVERFLOWED, "--json").stdout == before
