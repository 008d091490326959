"""The event store's transcoder: the library's JSON format, through orjson.

Stored events keep exactly the format of the library's `JSONTranscoder` (`{"_type_": name,
"_data_": value}` for UUID, Decimal, datetime and the domain's Enums), so stores written by
either read with the other. orjson parses and writes several times faster than the standard
`json` module with its per-object hooks; decoding is most of the cost of a rebuild, and
encoding sits on every command's path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

_PLAIN = (str, int, bool, type(None))
_CONTAINERS = (dict, list)


class OrjsonTranscoder(JSONTranscoder):
    """Drop-in for `JSONTranscoder` (same registrations, same bytes)."""

    def __init__(self) -> None:
        # Tag name → what turns its text into the value, called straight (no method frame):
        # the common tags around a string.
        self._from_text: dict[str, Callable[[str], Any]] = {}
        super().__init__()

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        from_text = getattr(transcoding, "from_text", None)
        if isinstance(transcoding, DatetimeAsISO):
            from_text = datetime.fromisoformat
        elif isinstance(transcoding, UUIDAsHex):
            from_text = UUID
        self._from_text[transcoding.name] = from_text or transcoding.decode

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._tag(obj))
        except orjson.JSONEncodeError:
            return super().encode(obj)  # e.g. an integer beyond 64 bits: json writes it exactly

    def decode(self, data: bytes) -> Any:
        parsed = orjson.loads(data)
        try:
            return self._untag(parsed)
        except _Inexact:
            # orjson reads an integer beyond 64 bits as a float; the standard decoder keeps
            # it exact (an old store can hold one, see LimitsChanged v2's upcaster).
            return super().decode(data)

    def _tag(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN:
            return obj
        if kind is float:
            if not math.isfinite(obj):  # orjson would write null where json writes NaN
                raise ValueError(f"cannot store the non-finite number {obj!r}")
            return obj
        if kind is dict:
            return {key: self._tag(value) for key, value in obj.items()}
        if kind is list or kind is tuple:
            return [self._tag(value) for value in obj]
        transcoding = self.types.get(kind)
        if transcoding is None:
            raise TranscodingNotRegisteredError(
                f"Object of type {kind} is not serializable. Please define and register "
                "a custom transcoding for this type."
            )
        return {"_type_": transcoding.name, "_data_": self._tag(transcoding.encode(obj))}

    def _untag(self, obj: Any) -> Any:
        """Replaces tagged values in place (parsed containers are this call's own)."""
        kind = type(obj)
        if kind is dict:
            if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
                transcoding = self.names.get(obj["_type_"])
                if transcoding is None:
                    return self._decode_obj(obj)  # raises the library's error
                return transcoding.decode(self._untag(obj["_data_"]))
            from_text = self._from_text
            for key, value in obj.items():
                kind = type(value)
                if kind is dict:
                    # Inline the common case, a tag around a string (datetime, UUID, Enum):
                    # it is most of a state's containers, and calls are the cost here.
                    if len(value) == 2 and type(data := value.get("_data_")) is str:
                        decode = from_text.get(value.get("_type_"))
                        if decode is not None:
                            obj[key] = decode(data)
                            continue
                    obj[key] = self._untag(value)
                elif kind is list:
                    obj[key] = self._untag(value)
                elif kind is float:
                    raise _Inexact
            return obj
        if kind is list:
            for index, value in enumerate(obj):
                if type(value) in _CONTAINERS:
                    obj[index] = self._untag(value)
                elif type(value) is float:
                    raise _Inexact
            return obj
        if kind is float:
            raise _Inexact
        return obj


class _Inexact(Exception):
    """A float in the parsed document: decode again with the standard library."""
