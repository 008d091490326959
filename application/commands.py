"""Settings of the line-request commands: add-on prices and the limits new lines get.
The command itself is `domain.decisions.LineDetails`."""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import Channel


@dataclass(frozen=True)
class Pricing:
    """Add-on prices per channel, in the currency's minor unit."""

    phone_amount: int
    email_amount: int
    currency: str

    def amount(self, channel: Channel) -> int:
        return self.phone_amount if channel is Channel.PHONE else self.email_amount


@dataclass(frozen=True)
class LineDefaults:
    daily_new_conversations_limit: int
    daily_total_messages_limit: int
