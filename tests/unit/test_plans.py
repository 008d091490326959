"""SPEC §2: the plan table as data, and how a per-workspace override combines with it."""

from __future__ import annotations

import pytest

from domain.enums import Billing, Channel, Plan
from domain.errors import ChannelNotAvailable, LineLimitReached
from domain.plans import PLAN_TABLE, Allowance, Override, allowance
from tests.unit.builders import admit_settled, workspace

INC, ADD = Billing.INCLUDED, Billing.ADDON
LIMIT = "line_limit_reached"

# SPEC §2 "read as data": (plan, channel, included, max); max None = unlimited paid add-ons.
TABLE = [
    (Plan.MINI, Channel.PHONE, 0, 0),
    (Plan.MINI, Channel.EMAIL, 1, None),
    (Plan.STARTER, Channel.PHONE, 1, 1),
    (Plan.STARTER, Channel.EMAIL, 0, None),
    (Plan.GROWTH, Channel.PHONE, 2, None),
    (Plan.GROWTH, Channel.EMAIL, 0, None),
]

# SPEC §2 table in words: how the first four requests of a channel are billed (add-ons paid
# as they come), or the refusal that stops them.
SEQUENCES = [
    (Plan.MINI, Channel.PHONE, []),  # not available at all
    (Plan.MINI, Channel.EMAIL, [INC, ADD, ADD, ADD]),
    (Plan.STARTER, Channel.PHONE, [INC, LIMIT]),
    (Plan.STARTER, Channel.EMAIL, [ADD, ADD, ADD, ADD]),
    (Plan.GROWTH, Channel.PHONE, [INC, INC, ADD, ADD]),
    (Plan.GROWTH, Channel.EMAIL, [ADD, ADD, ADD, ADD]),
]


def _ids(row: tuple[object, ...]) -> str:
    plan, channel = row[0], row[1]
    assert isinstance(plan, Plan) and isinstance(channel, Channel)
    return f"{plan.value}-{channel.value}"


def billed(plan: Plan, channel: Channel, override: Override | None, n: int) -> list[object]:
    """Bill n successive requests on a fresh workspace; stop at the first refusal."""
    ws = workspace(plan)
    if override is not None:
        ws.set_override(channel, override.included, override.max)
    out: list[object] = []
    for _ in range(n):
        try:
            out.append(admit_settled(ws, channel))
        except LineLimitReached:
            out.append(LIMIT)
            break
        except ChannelNotAvailable:
            break
    return out


@pytest.mark.parametrize(("plan", "channel", "included", "max_"), TABLE, ids=map(_ids, TABLE))
def test_plan_table_cell_has_the_spec_included_and_max(
    plan: Plan, channel: Channel, included: int, max_: int | None
) -> None:
    assert allowance(plan, channel) == Allowance(included=included, max=max_)


def test_plan_table_covers_every_plan_and_channel_and_nothing_else() -> None:
    assert set(PLAN_TABLE) == {(p, c) for p in Plan for c in Channel}


@pytest.mark.parametrize(("plan", "channel", "expected"), SEQUENCES, ids=map(_ids, SEQUENCES))
def test_successive_requests_are_billed_as_the_plan_table_says(
    plan: Plan, channel: Channel, expected: list[object]
) -> None:
    assert billed(plan, channel, None, 4) == expected


def test_mini_phone_is_not_available() -> None:
    ws = workspace(Plan.MINI)
    with pytest.raises(ChannelNotAvailable):
        ws.decide_billing(Channel.PHONE)


def test_second_mini_email_is_a_paid_addon() -> None:
    ws = workspace(Plan.MINI)
    admit_settled(ws, Channel.EMAIL)
    assert ws.decide_billing(Channel.EMAIL) is Billing.ADDON


@pytest.mark.parametrize(
    ("held", "expected"),
    [(0, Billing.INCLUDED), (1, Billing.INCLUDED), (2, Billing.ADDON), (3, Billing.ADDON)],
)
def test_billing_for_counts_included_then_addons_up_to_max(
    held: int, expected: Billing | None
) -> None:
    assert Allowance(included=2, max=4).billing_for(held) is expected


def test_billing_for_refuses_at_max() -> None:
    assert Allowance(included=2, max=4).billing_for(4) is None


def test_unlimited_allowance_never_refuses() -> None:
    assert Allowance(included=0, max=None).billing_for(10_000) is Billing.ADDON


@pytest.mark.parametrize(
    ("rule", "available"),
    [(Allowance(0, 0), False), (Allowance(0, 1), True), (Allowance(0, None), True)],
)
def test_channel_is_available_unless_max_is_zero(rule: Allowance, available: bool) -> None:
    assert rule.available is available


# --- overrides ------------------------------------------------------------------------------

OVERRIDES = [
    # (plan, channel, override, expected allowance, why)
    (Plan.STARTER, Channel.PHONE, Override(3, 4), Allowance(3, 4), "spec example"),
    (Plan.GROWTH, Channel.PHONE, Override(4, None), Allowance(4, None), "raise included"),
    (Plan.STARTER, Channel.EMAIL, Override(2, None), Allowance(2, None), "included email"),
    (Plan.STARTER, Channel.PHONE, Override(None, 3), Allowance(1, 3), "max allows add-ons"),
    (Plan.MINI, Channel.PHONE, Override(None, 2), Allowance(0, 2), "max opens a channel"),
    (Plan.MINI, Channel.PHONE, Override(1, None), Allowance(1, 1), "limit >= included"),
    (Plan.STARTER, Channel.PHONE, Override(2, None), Allowance(2, 2), "limit >= included"),
    (Plan.MINI, Channel.EMAIL, Override(3, None), Allowance(3, None), "unlimited stays"),
    (Plan.GROWTH, Channel.PHONE, Override(None, 1), Allowance(2, 2), "max >= included"),
    (Plan.STARTER, Channel.PHONE, Override(None, None), Allowance(1, 1), "empty override"),
]


@pytest.mark.parametrize(
    ("plan", "channel", "override", "expected"),
    [row[:4] for row in OVERRIDES],
    ids=[f"{_ids(row)}-{row[4]}" for row in OVERRIDES],
)
def test_override_combines_with_the_plan_as_the_spec_says(
    plan: Plan, channel: Channel, override: Override, expected: Allowance
) -> None:
    assert allowance(plan, channel, override) == expected


def test_starter_phone_override_3_of_4_gives_three_included_one_addon_then_the_limit() -> None:
    assert billed(Plan.STARTER, Channel.PHONE, Override(3, 4), 6) == [INC, INC, INC, ADD, LIMIT]


def test_override_max_allows_paid_addons_where_the_plan_allows_none() -> None:
    assert billed(Plan.STARTER, Channel.PHONE, Override(None, 3), 5) == [INC, ADD, ADD, LIMIT]


def test_override_max_opens_mini_phone_to_paid_addons() -> None:
    assert billed(Plan.MINI, Channel.PHONE, Override(None, 2), 4) == [ADD, ADD, LIMIT]


def test_override_included_without_max_keeps_the_plan_limit_but_not_below_included() -> None:
    assert billed(Plan.STARTER, Channel.PHONE, Override(2, None), 4) == [INC, INC, LIMIT]


def test_override_included_on_mini_phone_gives_included_lines_but_no_addons() -> None:
    assert billed(Plan.MINI, Channel.PHONE, Override(1, None), 3) == [INC, LIMIT]


def test_override_included_on_an_unlimited_channel_keeps_addons_unlimited() -> None:
    assert billed(Plan.GROWTH, Channel.EMAIL, Override(2, None), 5) == [INC, INC, ADD, ADD, ADD]


def test_override_of_one_channel_leaves_the_other_channel_on_the_plan() -> None:
    ws = workspace(Plan.STARTER)
    ws.set_override(Channel.PHONE, 3, 4)
    assert ws.allowance(Channel.EMAIL) == Allowance(0, None)
