"""JSON responses encoded with msgspec (Structs from api/schemas.py, or plain values)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import JSONResponse

_encode = msgspec.json.Encoder().encode


class JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return _encode(content)
