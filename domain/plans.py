"""Plan rules as data: what each plan includes per channel, and how overrides combine."""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import Billing, Channel, Plan


@dataclass(frozen=True)
class Allowance:
    """Lines of one channel a workspace may hold: `included` free, up to `max` in all
    (`max` None = unlimited paid add-ons)."""

    included: int
    max: int | None

    @property
    def available(self) -> bool:
        return self.max is None or self.max > 0

    def billing_for(self, held: int) -> Billing | None:
        """How the next line is billed when `held` slots are already held; None = refused."""
        if held < self.included:
            return Billing.INCLUDED
        if self.max is None or held < self.max:
            return Billing.ADDON
        return None


@dataclass(frozen=True)
class Override:
    """A workspace-specific raise of one channel's allowance."""

    included: int | None = None
    max: int | None = None


PLAN_TABLE: dict[tuple[Plan, Channel], Allowance] = {
    (Plan.MINI, Channel.PHONE): Allowance(included=0, max=0),
    (Plan.MINI, Channel.EMAIL): Allowance(included=1, max=None),
    (Plan.STARTER, Channel.PHONE): Allowance(included=1, max=1),
    (Plan.STARTER, Channel.EMAIL): Allowance(included=0, max=None),
    (Plan.GROWTH, Channel.PHONE): Allowance(included=2, max=None),
    (Plan.GROWTH, Channel.EMAIL): Allowance(included=0, max=None),
}


def allowance(plan: Plan, channel: Channel, override: Override | None = None) -> Allowance:
    """The plan's allowance for a channel, raised by an override where one is set.

    An override's `max` stands even where the plan allows no add-ons; without it the plan's
    own limit stands, but never below the override's `included`.
    """
    base = PLAN_TABLE[(plan, channel)]
    if override is None:
        return base
    included = base.included if override.included is None else override.included
    if override.max is not None:
        limit: int | None = max(override.max, included)
    elif base.max is None:
        limit = None
    else:
        limit = max(base.max, included)
    return Allowance(included=included, max=limit)
