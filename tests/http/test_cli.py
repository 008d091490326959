"""The `tuco` operator command (SPEC §5), on a SQLite file of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.config import Settings
from api.bootstrap import Services, build
from api.cli import main
from domain.decisions import LineDetails
from domain.enums import Channel, LineState, LineType, Plan, RequestSource


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TUCO_DATABASE_URL", url)
    monkeypatch.delenv("TUCO_BILLING", raising=False)
    return url


@contextmanager
def opened(db_url: str) -> Iterator[Services]:
    """The same database the CLI uses, opened directly to set up or check state."""
    s = build(Settings(database_url=db_url))
    try:
        yield s
    finally:
        s.close()


def tuco(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def new_request(db_url: str, workspace_id: str, channel: Channel = Channel.PHONE) -> UUID:
    with opened(db_url) as s:
        view = s.requests.request_line(
            LineDetails(
                workspace_id=workspace_id,
                channel=channel,
                line_type=LineType.PURCHASED,
                first_name="Ada",
                last_name="Lovelace",
                email="ada@example.com" if channel is Channel.EMAIL else None,
                phone=None,
                source=RequestSource.API,
            )
        )
        return view.id


def state_of(db_url: str, request_id: UUID) -> LineState | None:
    with opened(db_url) as s:
        return s.app.line_request(request_id).state


def test_workspaces_create_makes_an_active_workspace(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    assert code == 0
    assert "org_cli" in out and "growth" in out and "active" in out
    with opened(db_url) as s:
        ws = s.workspaces.get("org_cli")
        assert (ws.plan, ws.subscription_active, ws.name) == (Plan.GROWTH, True, "org_cli")


def test_workspaces_create_inactive_with_a_name(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = tuco(
        capsys, "workspaces", "create", "org_cli", "--plan", "mini", "--name", "Cli", "--inactive"
    )
    assert code == 0
    assert "inactive" in out
    with opened(db_url) as s:
        ws = s.workspaces.get("org_cli")
        assert (ws.name, ws.subscription_active) == ("Cli", False)


def test_creating_a_workspace_twice_fails_with_a_clear_message(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "mini")
    code, _, err = tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    assert code != 0
    assert "org_cli already exists" in err
    with opened(db_url) as s:
        assert s.workspaces.get("org_cli").plan is Plan.MINI


def test_set_plan_and_set_subscription_change_the_workspace(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "mini")
    assert tuco(capsys, "workspaces", "set-plan", "org_cli", "starter")[0] == 0
    code, out, _ = tuco(capsys, "workspaces", "set-subscription", "org_cli", "inactive")
    assert code == 0
    assert "inactive" in out
    with opened(db_url) as s:
        ws = s.workspaces.get("org_cli")
        assert (ws.plan, ws.subscription_active) == (Plan.STARTER, False)


def test_override_raises_a_channels_allowance(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "starter")
    code, out, _ = tuco(
        capsys,
        "workspaces",
        "override",
        "org_cli",
        "--channel",
        "phone",
        "--included",
        "3",
        "--max",
        "4",
    )
    assert code == 0
    assert "included 3, max 4" in out
    with opened(db_url) as s:
        rule = s.workspaces.get("org_cli").allowance(Channel.PHONE)
        assert (rule.included, rule.max) == (3, 4)


def test_an_override_with_max_below_included_fails(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "starter")
    code, _, err = tuco(
        capsys,
        "workspaces",
        "override",
        "org_cli",
        "--channel",
        "email",
        "--included",
        "3",
        "--max",
        "1",
    )
    assert code != 0
    assert "max must not be below included" in err


@pytest.mark.parametrize(
    "args",
    [
        ["workspaces", "set-plan", "org_ghost", "growth"],
        ["workspaces", "set-subscription", "org_ghost", "active"],
        ["workspaces", "override", "org_ghost", "--channel", "phone", "--included", "1"],
        ["keys", "create", "org_ghost"],
    ],
    ids=["set-plan", "set-subscription", "override", "keys-create"],
)
def test_commands_on_an_unknown_workspace_fail_with_a_clear_message(
    db_url: str, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = tuco(capsys, *args)
    assert code != 0
    assert "No workspace org_ghost was found" in err
    assert "tuco_" not in out


def test_keys_create_prints_the_key_alone_on_the_last_line(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    code, out, _ = tuco(capsys, "keys", "create", "org_cli")
    assert code == 0
    key = out.rstrip("\n").splitlines()[-1]
    assert key.startswith("tuco_")
    assert key == key.strip() and " " not in key
    with opened(db_url) as s:
        assert s.keys.authenticate(key) == "org_cli"


def test_keys_list_shows_each_keys_twelve_character_prefix(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    keys = [tuco(capsys, "keys", "create", "org_cli")[1].splitlines()[-1] for _ in range(2)]
    code, out, _ = tuco(capsys, "keys", "list", "org_cli")
    assert code == 0
    listed = out.splitlines()
    assert len(listed) == 2
    assert {line.split()[0] for line in listed} == {k[:12] for k in keys}
    assert all("revoked -" in line for line in listed)
    assert all(k not in out for k in keys)


def test_keys_revoke_by_prefix_stops_the_key(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    key = tuco(capsys, "keys", "create", "org_cli")[1].splitlines()[-1]
    code, out, _ = tuco(capsys, "keys", "revoke", key[:12])
    assert code == 0
    assert "revoked 1" in out
    with opened(db_url) as s:
        assert s.keys.authenticate(key) is None
    assert "revoked -" not in tuco(capsys, "keys", "list", "org_cli")[1]


def test_keys_revoke_by_whole_key_stops_only_that_key(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    key = tuco(capsys, "keys", "create", "org_cli")[1].splitlines()[-1]
    other = tuco(capsys, "keys", "create", "org_cli")[1].splitlines()[-1]
    assert tuco(capsys, "keys", "revoke", key)[0] == 0
    with opened(db_url) as s:
        assert s.keys.authenticate(key) is None
        assert s.keys.authenticate(other) == "org_cli"


def test_revoking_an_unknown_key_fails_with_a_clear_message(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = tuco(capsys, "keys", "revoke", "tuco_nothing")
    assert code != 0
    assert "no active key matches" in err


def test_lines_activate_makes_a_provisioning_line_active(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    request_id = new_request(db_url, "org_cli")
    code, out, _ = tuco(capsys, "lines", "activate", str(request_id), "--phone", "+12025550199")
    assert code == 0
    assert f"{request_id}: active" in out
    with opened(db_url) as s:
        view = s.requests.get("org_cli", request_id)
        assert (view.state, view.phone) == (LineState.ACTIVE, "+12025550199")


def test_lines_fail_records_the_reason(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    request_id = new_request(db_url, "org_cli")
    code, out, _ = tuco(capsys, "lines", "fail", str(request_id), "--reason", "no numbers")
    assert code == 0
    assert "failed (no numbers)" in out
    with opened(db_url) as s:
        req = s.app.line_request(request_id)
        assert (req.state, req.failure_reason) == (LineState.FAILED, "no numbers")


def test_activating_a_failed_line_is_an_invalid_transition(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    request_id = new_request(db_url, "org_cli")
    tuco(capsys, "lines", "fail", str(request_id), "--reason", "no numbers")
    code, _, err = tuco(capsys, "lines", "activate", str(request_id), "--phone", "+12025550199")
    assert code != 0
    assert "Cannot activate a line request that is failed" in err
    assert state_of(db_url, request_id) is LineState.FAILED


def test_failing_a_line_awaiting_payment_is_an_invalid_transition(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "starter")
    request_id = new_request(db_url, "org_cli", Channel.EMAIL)
    code, _, err = tuco(capsys, "lines", "fail", str(request_id), "--reason", "x")
    assert code != 0
    assert "awaiting_payment" in err
    assert state_of(db_url, request_id) is LineState.AWAITING_PAYMENT


def test_activating_a_phone_line_without_a_number_fails_clearly(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tuco(capsys, "workspaces", "create", "org_cli", "--plan", "growth")
    request_id = new_request(db_url, "org_cli")
    code, _, err = tuco(capsys, "lines", "activate", str(request_id))
    assert code != 0
    assert "phone" in err
    assert state_of(db_url, request_id) is LineState.PROVISIONING


def test_lines_commands_on_an_unknown_request_fail_clearly(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = uuid4()
    code, _, err = tuco(capsys, "lines", "fail", str(unknown), "--reason", "x")
    assert code != 0
    assert f"No line request {unknown} was found" in err


def test_a_malformed_request_id_is_a_usage_error(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lines", "activate", "not-a-uuid"]) == 2
    assert "not a line request id" in capsys.readouterr().err
