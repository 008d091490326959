"""Pages of a workspace's line requests: what a list query asks for and what it answers.

The cursor is a request id; the order is the position of each request's creation in the
log (newest first), which never changes once written, so requests committed while a client
walks the pages only ever appear before its first page, never inside or between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from application.views import LineView
from domain.enums import Channel, LineState

MAX_PAGE = 100  # the largest `limit`
DEFAULT_PAGE = 20  # `GET /api/line-requests` without `limit`


@dataclass(frozen=True)
class LineQuery:
    """`limit` None: every matching request. `starting_after`: answer only requests older
    than this one (an id of the same workspace)."""

    limit: int | None = None
    starting_after: UUID | None = None
    state: LineState | None = None
    channel: Channel | None = None


@dataclass(frozen=True)
class LinePage:
    views: list[LineView] = field(default_factory=list)
    has_more: bool = False
