"""Structured logs (adapters.logs): JSON lines for every logger, extra fields as keys, the
request id while serving, and secrets masked whatever logged them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.config import Settings, StripeSettings
from adapters.logs import (
    _SHAPES,
    REQUEST_ID,
    Redactor,
    _mask_match,
    configure_logging,
    secrets_of,
)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    try:
        yield out
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        structlog.reset_defaults()


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_a_library_log_record_is_one_json_line_with_its_extra_fields(stream: io.StringIO) -> None:
    configure_logging("INFO", "json", stream=stream)
    logging.getLogger("some.library").warning("disk %s", "low", extra={"free_mb": 12})
    (line,) = lines(stream)
    assert line["event"] == "disk low"
    assert line["level"] == "warning"
    assert line["logger"] == "some.library"
    assert line["free_mb"] == 12
    assert str(line["time"]).endswith("Z")


def test_records_below_the_level_are_dropped_and_structlog_loggers_share_the_handler(
    stream: io.StringIO,
) -> None:
    configure_logging("WARNING", "json", stream=stream)
    logging.getLogger("x").info("not shown")
    structlog.get_logger("y").info("not shown either")
    structlog.get_logger("y").error("shown", code=7)
    (line,) = lines(stream)
    assert line["event"] == "shown"
    assert line["code"] == 7


def test_the_request_id_being_served_is_added_to_each_line(stream: io.StringIO) -> None:
    configure_logging("INFO", "json", stream=stream)
    token = REQUEST_ID.set("req-42")
    try:
        logging.getLogger("x").info("inside")
    finally:
        REQUEST_ID.reset(token)
    logging.getLogger("x").info("outside")
    inside, outside = lines(stream)
    assert inside["request_id"] == "req-42"
    assert "request_id" not in outside


def test_a_traceback_is_rendered_into_the_line(stream: io.StringIO) -> None:
    configure_logging("INFO", "json", stream=stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("x").exception("failed")
    (line,) = lines(stream)
    assert "RuntimeError: boom" in str(line["exception"])


def test_console_format_is_one_readable_line(stream: io.StringIO) -> None:
    configure_logging("INFO", "console", stream=stream)
    logging.getLogger("x").info("hello", extra={"n": 1})
    text = stream.getvalue()
    assert "hello" in text and "n=1" in text and not text.startswith("{")


def test_configured_secrets_and_secret_shapes_are_masked() -> None:
    redact = Redactor(["hunter2-password", "internal-token-xyz"])
    line = (
        "db postgresql://app:hunter2-password@db/x token internal-token-xyz "
        "key tuco_AbCdEfGhIjKlMnOpQrStUvWxYz012345 stripe sk_test_51Hxyz whsec_abc123 "
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig url https://u:pw@host/"
    )
    masked = redact(line)
    for secret in ["hunter2-password", "internal-token-xyz", "AbCdEfGhIjKlMnOp", "sk_test_51",
                   "whsec_abc", "eyJhbGci", "u:pw@"]:  # fmt: skip
        assert secret not in masked, (secret, masked)
    assert "postgresql://app:" in masked and "https://u:" in masked  # user names stay
    assert redact("api_key:tuco_ABCDEFG created") == "api_key:tuco_ABCDEFG created"  # a prefix


# Whole secret shapes, their pieces and other text, joined in any order.
_FRAGMENTS = [
    "tuco_AbCdEfGhIjKlMnOpQrStUvWx", "tuco_", "sk_test_1234", "pk_live_abcd", "rk", "_test_",
    "whsec_abcd", "whsec", "Bearer abcdefgh1", "bearer ", "://u:pw@", "://", "u:", "pw@", "@",
    "/", " ", '"', ",", "x",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=6), max_size=12).map("".join))
def test_a_line_without_any_shape_hint_is_one_the_expression_leaves_alone(line: str) -> None:
    """Lines are skipped by substring before the expression runs: only where it could not
    have masked anything."""
    assert Redactor()(line) == _SHAPES.sub(_mask_match, line)


def test_the_secrets_of_settings_are_the_keys_tokens_and_database_password() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://app:pg-pass-1@127.0.0.1/test",
        internal_token="svc-token-1",
        notify_secret="notify-secret-1",
        stripe=StripeSettings(api_key="sk_test_key1", webhook_secret="whsec_secret1"),
    )
    assert set(secrets_of(settings)) == {
        "pg-pass-1", "svc-token-1", "notify-secret-1", "sk_test_key1", "whsec_secret1",
    }  # fmt: skip
    assert secrets_of(Settings()) == []


def test_a_bad_format_or_level_is_refused(stream: io.StringIO) -> None:
    with pytest.raises(ValueError, match="format"):
        configure_logging("INFO", "xml", stream=stream)
    with pytest.raises(ValueError, match="level"):
        configure_logging("LOUD", "json", stream=stream)


def test_settings_refuse_an_unknown_log_format_or_level() -> None:
    from adapters.config import ConfigError

    assert Settings.from_env({"TUCO_LOG_FORMAT": "console"}).log_format == "console"
    assert Settings.from_env({"TUCO_LOG_LEVEL": "debug"}).log_level == "DEBUG"
    with pytest.raises(ConfigError, match="TUCO_LOG_FORMAT"):
        Settings.from_env({"TUCO_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="TUCO_LOG_LEVEL"):
        Settings.from_env({"TUCO_LOG_LEVEL": "loud"})
