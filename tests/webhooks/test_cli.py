"""`tuco webhooks add|list|test|deliveries|redeliver|enable|remove`, against a real
receiving server, on the database the CLI is configured with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from adapters.config import Settings
from api.bootstrap import Services, build
from api.cli import main
from domain.enums import Plan
from tests.support.receiver import Receiver
from tests.webhooks.conftest import HOOK_SETTINGS
from tests.webhooks.helpers import drain, roomy_tenant


@pytest.fixture
def db_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUCO_DATABASE_URL", database_url)
    monkeypatch.delenv("TUCO_BILLING", raising=False)
    return database_url


@contextmanager
def opened(db_url: str) -> Iterator[Services]:
    """The CLI's database on the real clock: retries wait long enough (5 min) that none
    comes due while a test looks at the log."""
    slow = {**HOOK_SETTINGS, "webhook_retry_base": 300.0, "webhook_retry_max": 600.0}
    s = build(Settings(database_url=db_url, **slow))  # type: ignore[arg-type]
    try:
        yield s
    finally:
        s.close()


def tuco(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_test_and_remove(
    db_url: str, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    with opened(db_url) as s:
        s.workspaces.create("acme", Plan.GROWTH, "Acme", True)
    code, out, _ = tuco(capsys, "webhooks", "add", "acme", receiver.url)
    assert code == 0
    endpoint_id = out.split()[2]
    receiver.secret = out.strip().splitlines()[-1]
    assert receiver.secret.startswith("whsec_")
    code, out, _ = tuco(capsys, "webhooks", "list", "acme")
    assert code == 0 and endpoint_id in out and "enabled" in out and "whsec_" not in out
    code, out, _ = tuco(capsys, "webhooks", "test", "acme")
    assert code == 0 and "delivered (204)" in out
    (ping,) = receiver.messages()
    assert ping.verified and ping.body["type"] == "webhook.test"
    receiver.always_fail = True
    code, out, _ = tuco(capsys, "webhooks", "test", "acme", "--endpoint", endpoint_id)
    assert code == 1 and "HTTP 503" in out
    assert tuco(capsys, "webhooks", "remove", "acme", endpoint_id)[0] == 0
    code, out, _ = tuco(capsys, "webhooks", "list", "acme")
    assert "no webhook endpoints" in out


def test_deliveries_redeliver_and_enable(
    db_url: str, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    with opened(db_url) as s:
        t = roomy_tenant(s, "acme")
    code, out, _ = tuco(capsys, "webhooks", "add", "acme", receiver.url)
    endpoint_id = out.split()[2]
    receiver.secret = out.strip().splitlines()[-1]
    receiver.fail_next = 1
    with opened(db_url) as s:
        from tests.webhooks.test_restart_and_senders import _post_lines

        _post_lines(s, t.key, 1, "cli")
        drain(s)
    code, out, _ = tuco(capsys, "webhooks", "deliveries", "acme")
    assert code == 0
    rows = out.strip().splitlines()
    assert len(rows) == 2
    pending = [r for r in rows if " pending " in r]
    assert len(pending) == 2  # the first waits for its retry, the second behind it
    assert any("attempts 1  last 503" in r and "error HTTP 503" in r for r in pending)
    assert all(" next 20" in r for r in pending)
    code, out, _ = tuco(capsys, "webhooks", "deliveries", "acme", "--status", "delivered")
    assert out == ""

    first = next(r for r in rows if "attempts 1" in r).split()[0]
    code, out, _ = tuco(capsys, "webhooks", "redeliver", first)
    assert code == 0 and "pending" in out
    with opened(db_url) as s:
        drain(s)
    assert len(receiver.messages()) == 2
    code, out, _ = tuco(capsys, "webhooks", "deliveries", "acme", "--status", "delivered")
    assert len(out.strip().splitlines()) == 2

    code, _, err = tuco(capsys, "webhooks", "enable", "acme", endpoint_id)
    assert code == 0, err
    code, _, err = tuco(capsys, "webhooks", "redeliver", "msg_" + "0" * 32)
    assert code == 1 and "No webhook delivery" in err


def test_bad_input_is_one_line_and_records_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with opened(db_url) as s:
        s.workspaces.create("acme", Plan.GROWTH, "Acme", True)
    for args in (
        ("add", "acme", "ftp://example.com/"),
        ("add", "acme", "https://u:p@example.com/"),
        ("add", "nobody", "https://example.com/"),
        ("remove", "acme", "we_nothing"),
        ("deliveries", "acme", "--limit", "0"),
    ):
        code, _, err = tuco(capsys, "webhooks", *args)
        assert code in (1, 2), args
        assert len(err.strip().splitlines()) == 1, err
    with opened(db_url) as s:
        assert s.webhooks.list("acme") == []
