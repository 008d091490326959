"""The query of the list endpoints (`ListQuery`, api/schemas.py) as a typed `LineQuery`."""

from __future__ import annotations

from msgspec import UNSET
from starlette.datastructures import QueryParams

from api import parsing
from api.errors import ValidationFailed
from api.schemas import ListQuery
from application.listing import LineQuery


def line_query(params: QueryParams, default_limit: int | None) -> LineQuery:
    """`limit` (absent: `default_limit`), `starting_after`, `status`, `requestedChannelType`;
    unknown, repeated or malformed parameters are a 422 naming the parameter."""
    for name in params:
        if len(params.getlist(name)) > 1:
            raise ValidationFailed(f"The query parameter {name} is given twice.", param=name)
    q = parsing.query(params, ListQuery)
    return LineQuery(
        limit=default_limit if q.limit is UNSET else q.limit,
        starting_after=None if q.starting_after is UNSET else q.starting_after,
        state=None if q.status is UNSET else q.status,
        channel=None if q.requested_channel_type is UNSET else q.requested_channel_type,
    )
