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
        self.members = _Members(enum_type)
        self.from_text = self.members.__getitem__  # a dict lookup, no Python frame

    def encode(self, obj: Any) -> Any:
        return obj.value

    def decode(self, data: Any) -> Any:
        member = self.members.get(data)
        return self.type(data) if member is None else member  # the former raises as before


class _Members(dict[Any, Enum]):
    """Value → member; a value that is not one raises as the Enum itself does."""

    def __init__(self, enum_type: type[Enum]) -> None:
        super().__init__((member.value, member) for member in enum_type)
        self.enum_type = enum_type

    def __missing__(self, value: Any) -> Enum:
        return self.enum_type(value)


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    for enum_type in DOMAIN_ENUMS:
        transcoder.register(EnumAsValue(enum_type))
