"""Production start-up refuses what it cannot run safely (SPEC §7, issue 13 item 1): the
settings each refuse in one line naming the variable, and `tuco serve` / `tuco worker` exit 2
with that one line on stderr, no traceback, before serving."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from adapters.config import ConfigError, Settings
from adapters.signing import new_secret
from tests.support.server import TUCO, free_port

SECRET = new_secret()
STRIPE = {
    "TUCO_BILLING": "stripe",
    "STRIPE_API_KEY": "sk_test_123",
    "STRIPE_WEBHOOK_SECRET": "whsec_test",
    "TUCO_INTERNAL_TOKEN": "internal",
    "TUCO_PROVISIONER": "manual",
}
HTTP = {
    "TUCO_PROVISIONER": "http",
    "TUCO_PROVISIONER_URL": "https://provisioning.example",
    "TUCO_PROVISIONER_SECRET": SECRET,
}


def without(env: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != name}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (without(STRIPE, "TUCO_PROVISIONER"), "TUCO_PROVISIONER"),
        (STRIPE | {"TUCO_PROVISIONER": " "}, "TUCO_PROVISIONER"),
        (STRIPE | {"STRIPE_API_KEY": ""}, "STRIPE_API_KEY"),
        (without(STRIPE, "STRIPE_WEBHOOK_SECRET"), "STRIPE_WEBHOOK_SECRET"),
        (without(STRIPE, "TUCO_INTERNAL_TOKEN"), "TUCO_INTERNAL_TOKEN"),
        (STRIPE | {"TUCO_INTERNAL_TOKEN": "  "}, "TUCO_INTERNAL_TOKEN"),
        (STRIPE | {"TUCO_PROVISIONER": "carrier"}, "TUCO_PROVISIONER"),
        (without(HTTP, "TUCO_PROVISIONER_URL"), "TUCO_PROVISIONER_URL"),
        (HTTP | {"TUCO_PROVISIONER_URL": "ftp://x"}, "TUCO_PROVISIONER_URL"),
        (without(HTTP, "TUCO_PROVISIONER_SECRET"), "TUCO_PROVISIONER_SECRET"),
        (HTTP | {"TUCO_PROVISIONER_SECRET": "not-a-whsec"}, "TUCO_PROVISIONER_SECRET"),
        (HTTP | {"TUCO_PROVISIONER_SECRET": "whsec_!!!"}, "TUCO_PROVISIONER_SECRET"),
        (STRIPE | HTTP | {"TUCO_PROVISIONER_SECRET": ""}, "TUCO_PROVISIONER_SECRET"),
        (HTTP | {"TUCO_PROVISIONER_POLL_SECONDS": "0"}, "TUCO_PROVISIONER_POLL_SECONDS"),
        ({"TUCO_USAGE": "maybe"}, "TUCO_USAGE"),
    ],
)
def test_each_refusal_is_one_line_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)
    message = str(refused.value)
    assert named in message
    assert "\n" not in message


def test_the_embedded_default_is_the_sandbox_provisioner() -> None:
    settings = Settings.from_env({})
    assert settings.billing == "sandbox"
    assert settings.provisioner.kind == "sandbox"
    assert settings.usage_enabled


def test_production_starts_with_everything_named() -> None:
    settings = Settings.from_env(STRIPE | HTTP | {"TUCO_PROVISIONER_POLL_SECONDS": "30"})
    p = settings.provisioner
    assert (p.kind, p.url, p.secret, p.poll_seconds) == (
        "http", "https://provisioning.example", SECRET, 30.0,
    )  # fmt: skip


def test_stripe_with_the_sandbox_provisioner_named_on_purpose_starts() -> None:
    assert Settings.from_env(STRIPE | {"TUCO_PROVISIONER": "sandbox"}).provisioner.kind == "sandbox"


def test_usage_off_needs_no_internal_token() -> None:
    settings = Settings.from_env(without(STRIPE, "TUCO_INTERNAL_TOKEN") | {"TUCO_USAGE": "off"})
    assert settings.usage_enabled is False


def _run(
    tmp_path: Path, command: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TUCO_", "STRIPE_"))}
    return subprocess.run(
        [TUCO, *command],
        env=clean | {"TUCO_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("command", "env", "named"),
    [
        (["serve", "--port", "0"], without(STRIPE, "TUCO_PROVISIONER"), "TUCO_PROVISIONER"),
        (["worker"], without(STRIPE, "TUCO_PROVISIONER"), "TUCO_PROVISIONER"),
        (["serve", "--port", "0"], STRIPE | {"STRIPE_API_KEY": ""}, "STRIPE_API_KEY"),
        (["serve", "--port", "0"], STRIPE | without(HTTP, "TUCO_PROVISIONER_SECRET"),
         "TUCO_PROVISIONER_SECRET"),
    ],
)  # fmt: skip
def test_serve_and_worker_refuse_before_serving(
    tmp_path: Path, command: list[str], env: dict[str, str], named: str
) -> None:
    if command[0] == "serve":
        command = ["serve", "--port", str(free_port())]
    done = _run(tmp_path, command, env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert named in lines[0]
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "t.db").exists()  # refused before anything was opened
