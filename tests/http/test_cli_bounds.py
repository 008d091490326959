"""Operator commands validate like the API (SPEC §7): an out-of-range number, a malformed
URL, phone, address, id or time exits non-zero with one line on stderr, no traceback, and
records nothing."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.enums import Channel, LineState, Plan
from tests.http.test_cli import db_url, new_request, opened, tuco

__all__ = ["db_url"]  # the fixture, shared with test_cli


@pytest.fixture
def ids(db_url: str) -> dict[str, UUID]:
    """A workspace with one line in provisioning and one active."""
    with opened(db_url) as s:
        s.workspaces.create("acme", Plan.GROWTH, "Acme", True)
    provisioning = new_request(db_url, "acme", Channel.PHONE)
    active = new_request(db_url, "acme", Channel.PHONE)
    with opened(db_url) as s:
        s.provisioning.activate(active, "+12025550100", None, "operator")
    return {"provisioning": provisioning, "active": active}


def head(db_url: str) -> int:
    with opened(db_url) as s:
        return s.app.recorder.max_notification_id() or 0


TOO_BIG = "99999999999999999999999"
BAD_COMMANDS: dict[str, list[str]] = {
    "limits too big": ["lines", "limits", "{active}", "--new-conversations", TOO_BIG],
    "limits int32+1": ["lines", "limits", "{active}", "--total-messages", str(2**31)],
    "limits negative": ["lines", "limits", "{active}", "--total-messages", "-1"],
    "limits not a number": ["lines", "limits", "{active}", "--new-conversations", "1.5"],
    "override too big": ["workspaces", "override", "acme", "--channel", "phone", "--max", TOO_BIG],
    "override words": ["workspaces", "override", "acme", "--channel", "phone", "--included", "x"],
    "override max<included": [
        "workspaces", "override", "acme", "--channel", "phone", "--included", "3", "--max", "2",
    ],
    "url scheme": ["lines", "configure", "{active}", "--server-url", "ftp://lines.example"],
    "url credentials": [
        "lines", "configure", "{active}", "--server-url", "http://user:pw@lines.example/",
    ],
    "url not a url": ["lines", "configure", "{active}", "--server-url", "not a url"],
    "url port": ["lines", "configure", "{active}", "--server-url", "http://h:70000/"],
    "activate phone": ["lines", "activate", "{provisioning}", "--phone", "555-CALL-NOW"],
    "activate email": ["lines", "activate", "{provisioning}", "--email", "not-an-address"],
    "fail empty reason": ["lines", "fail", "{provisioning}", "--reason", "  "],
    "fail long reason": ["lines", "fail", "{provisioning}", "--reason", "x" * 501],
    "line id": ["lines", "fail", "not-a-uuid", "--reason", "r"],
    "workspace id too long": ["workspaces", "create", "w" * 201, "--plan", "mini"],
    "workspace id control": ["workspaces", "create", "bad\x07id", "--plan", "mini"],
    "workspace name too long": ["workspaces", "create", "other", "--plan", "mini", "--name",
                                "n" * 201],
    "plan": ["workspaces", "set-plan", "acme", "platinum"],
    "audit as-of": ["audit", "{active}", "--as-of", "yesterday"],
    "serve port": ["serve", "--port", "70000"],
    "serve workers": ["serve", "--workers", "0"],
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD_COMMANDS))
def test_a_bad_value_exits_non_zero_with_one_line_and_records_nothing(
    name: str, db_url: str, ids: dict[str, UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    before = head(db_url)
    args = [arg.format(**{k: str(v) for k, v in ids.items()}) for arg in BAD_COMMANDS[name]]
    code, out, err = tuco(capsys, *args)
    assert code != 0, out
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "error" in err
    assert head(db_url) == before
    with opened(db_url) as s:
        assert s.app.line_request(ids["provisioning"]).state is LineState.PROVISIONING
        assert s.app.line_request(ids["active"]).daily_new_conversations_limit == 20


def test_the_largest_storable_limit_is_accepted_and_shown(
    db_url: str, ids: dict[str, UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = tuco(
        capsys, "lines", "limits", str(ids["active"]), "--new-conversations", str(2**31 - 1)
    )
    assert code == 0, err
    with opened(db_url) as s:
        s.read_model.catch_up()
        view = s.read_model.find_line(ids["active"])
        assert view is not None and view.daily_new_conversations_limit == 2**31 - 1
