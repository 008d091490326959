"""The orjson transcoder writes and reads exactly the library's JSON format."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.transcoder import OrjsonTranscoder
from application.transcodings import DOMAIN_ENUMS, register_domain_transcodings


def _registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_domain_transcodings(transcoder)
    return transcoder


LIBRARY = _registered(JSONTranscoder())
FAST = _registered(OrjsonTranscoder())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    st.uuids(),
    st.datetimes(timezones=st.just(UTC)),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([member for enum in DOMAIN_ENUMS for member in enum]),
)
states = st.dictionaries(
    st.text(max_size=12),
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    ),
    max_size=10,
)


# Generating nested states is slow on a busy machine; that is not what these tests check.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@relaxed
@given(states)
def test_it_writes_the_same_bytes_as_the_library(state: dict[str, Any]) -> None:
    assert FAST.encode(state) == LIBRARY.encode(state)


@relaxed
@given(states)
def test_it_reads_what_the_library_wrote_and_the_library_reads_it_back(
    state: dict[str, Any],
) -> None:
    stored = LIBRARY.encode(state)
    assert FAST.decode(stored) == LIBRARY.decode(stored) == state
    assert LIBRARY.decode(FAST.encode(state)) == state


def test_an_integer_beyond_64_bits_stays_exact_both_ways() -> None:
    state = {"new_conversations": 99999999999999999999999, "nested": [{"n": 2**70}]}
    stored = FAST.encode(state)
    assert stored == LIBRARY.encode(state)
    decoded = FAST.decode(stored)
    assert decoded == state
    assert type(decoded["new_conversations"]) is int


def test_tagged_values_come_back_typed() -> None:
    when = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    uid = UUID(int=7)
    decoded = FAST.decode(FAST.encode({"at": when, "id": uid, "price": Decimal("1.50")}))
    assert decoded == {"at": when, "id": uid, "price": Decimal("1.50")}
    assert type(decoded["id"]) is UUID


def test_an_unregistered_type_is_refused_as_by_the_library() -> None:
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.encode({"s": {1, 2}})
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.decode(b'{"x":{"_type_":"nobody","_data_":1}}')


def test_a_non_finite_number_is_refused_rather_than_written_as_null() -> None:
    with pytest.raises(ValueError):
        FAST.encode({"x": math.nan})
