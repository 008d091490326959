"""Transcodings for the domain's Enums: the library knows only UUID, Decimal, datetime."""

from __future__ import annotations

from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain import enums

# Every Enum of the domain, so a new one cannot be forgotten here.
DOMAIN_ENUMS: tuple[type[Enum], ...] = tuple(
    value
    for value in vars(enums).values()
    if isinstance(value, type) and issubclass(value, Enum) and value is not Enum
)


class EnumAsValue(Transcoding):
    """Stores an Enum member as its value, tagged with the Enum's name."""

    def __init__(self, enum_type: type[Enum]) -> None:
        self.type = enum_type
        self.name = enum_type.__name__
        self.members = {member.value: member for member in enum_type}

    def encode(self, obj: Any) -> Any:
        return obj.value

    def decode(self, data: Any) -> Any:
        member = self.members.get(data)
        return self.type(data) if member is None else member  # the former raises as before


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    for enum_type in DOMAIN_ENUMS:
        transcoder.register(EnumAsValue(enum_type))
