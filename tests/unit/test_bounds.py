"""The one validation shared by HTTP, the CLI and the domain's guards: values the database
cannot store, or URLs that are not http(s), are refused before any event."""

from __future__ import annotations

import re
from typing import Any

import pytest

from domain import bounds
from domain.enums import Channel
from domain.errors import InvalidLimits, InvalidOverride, InvalidValue
from tests.unit.builders import in_state, settled, workspace


@pytest.mark.parametrize("value", [0, 1, bounds.MAX_COUNT])
def test_counts_in_range_pass(value: int) -> None:
    assert bounds.count("n", value) == value


@pytest.mark.parametrize("value", [-1, bounds.MAX_COUNT + 1, 10**23, True, 1.5, "3", None])
def test_counts_out_of_range_or_not_whole_are_refused(value: Any) -> None:
    with pytest.raises(InvalidValue) as refused:
        bounds.count("n", value)
    assert refused.value.param == "n"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "https://lines.example.com", "http://[::1]:8000/a?b=c"]
)
def test_http_urls_pass(url: str) -> None:
    assert bounds.http_url("serverUrl", url) == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com",
        "javascript:alert(1)",
        "http://",
        "example.com",
        "http://user:pass@example.com/",
        "http://example.com:99999/",
        "http://exa mple.com/",
        "http://example.com/\x00",
        "https://" + "a" * 2000 + ".com",
        "",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidValue):
        bounds.http_url("serverUrl", url)


def test_text_is_trimmed_and_bounded() -> None:
    assert bounds.text("name", "  Ada ", max_len=3) == "Ada"
    assert bounds.text("name", "   ", max_len=3, required=False) is None
    for bad in ("Adam", "A\x07", 7):
        with pytest.raises(InvalidValue):
            bounds.text("name", bad, max_len=3)


def test_limits_out_of_range_are_refused_and_record_nothing() -> None:
    req, before = settled(in_state("active_included"))
    with pytest.raises(InvalidLimits) as refused:
        req.change_limits(10**23, None)
    assert refused.value.param == "newConversations"
    assert req.pending_events == []
    assert req.daily_new_conversations_limit == before.daily_new_conversations_limit


def test_overrides_out_of_range_are_refused() -> None:
    ws, _ = settled(workspace())
    with pytest.raises(InvalidOverride):
        ws.set_override(Channel.PHONE, 2**31, None)
    assert ws.pending_events == []


def test_a_server_url_must_be_http_and_an_old_one_survives_activation() -> None:
    req = in_state("provisioning_included")
    with pytest.raises(InvalidValue):
        req.configure_server("file:///etc/passwd")
    req.configure_server("http://127.0.0.1:9000/line")
    req.activate(phone=None, email="ada@example.com", provider_ref="operator")
    assert req.server_url == "http://127.0.0.1:9000/line"


def test_an_out_of_range_limit_stored_before_validation_is_read_as_the_bound() -> None:
    state: dict[str, Any] = {
        "daily_new_conversations_limit": 99999999999999999999999,
        "daily_total_messages_limit": -5,
    }
    type(in_state("active_included")).LimitsChanged.upcast_v1_v2(state)
    assert state == {
        "daily_new_conversations_limit": bounds.MAX_COUNT,
        "daily_total_messages_limit": 0,
    }


@pytest.mark.parametrize(
    "value", ["Ada", " Ada ", "x", "Ünïcødé", "a\u0000b", "a\tb", " ", "", "a\x7f", "\n"]
)
def test_the_documented_text_pattern_is_the_text_rule(value: str) -> None:
    """What /openapi.json states for names is what `text` accepts (up to the length)."""
    try:
        bounds.text("name", value, max_len=100)
        accepted = True
    except InvalidValue:
        accepted = False
    assert bool(re.fullmatch(bounds.TEXT_PATTERN, value)) == accepted
