"""CLI conventions: every command, group and option of `tuco` has help, every option with a
default shows it (or says what happens without it), and `tuco --version` works. Walks the
whole parser, so a command added later without help fails here."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from api.cli import main, parser
from api.cli_parser import HelpWithDefaults
from api.version import service_version

FLAGS = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._StoreConstAction)
SKIP = (argparse._HelpAction, argparse._VersionAction)


def parsers(
    p: argparse.ArgumentParser, path: str = "tuco"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from parsers(child, f"{path} {name}")


def problems() -> list[str]:
    found = []
    for path, p in parsers(parser()):
        formatter = HelpWithDefaults(path)
        for action in p._actions:
            if isinstance(action, SKIP):
                continue
            name = "/".join(action.option_strings) or action.dest
            if not (action.help or "").strip():
                found.append(f"{path}: {name} has no help")
            if isinstance(action, argparse._SubParsersAction):
                listed = {a.dest: a.help for a in action._choices_actions}
                found += [f"{path} {cmd}: no help in the list of commands"
                          for cmd in action.choices if not listed.get(cmd)]  # fmt: skip
                continue
            optional = action.option_strings and not action.required
            if (optional and not isinstance(action, FLAGS)) or action.nargs == "?":
                shown = formatter._get_help_string(action) or ""
                if "default" not in shown:
                    found.append(f"{path}: {name} does not say its default")
    return found


def test_every_command_group_and_option_has_help_with_its_default() -> None:
    assert problems() == []


def test_the_walk_covers_every_command() -> None:
    paths = {path for path, _ in parsers(parser())}
    assert {"tuco serve", "tuco workspaces create", "tuco projections rebuild",
            "tuco audit", "tuco keys revoke"} <= paths  # fmt: skip
    assert len(paths) >= 25


def test_a_default_is_shown_in_the_rendered_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "port to listen on (default: 8000)" in out
    assert "(default: 127.0.0.1)" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tuco {service_version()}"
    assert service_version() != "unknown"


def test_the_top_level_help_lists_each_group_with_a_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for line in ["workspace API keys", "the read models: rebuild, status", "--version"]:
        assert line in out
