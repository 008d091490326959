"""Shares of the event log for the rebuild's fold workers (projections.parallel): each
worker reads the events of its share of the aggregates, chosen the same way in SQL and in
Python, plus the events every share's reader needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple
from uuid import UUID

HEX = "0123456789abcdef"


class Share(NamedTuple):
    """Which rows a reader of one share of the log wants (see `share_filter`)."""

    part: int
    of: int
    topics: tuple[str, ...]  # of this share's aggregates only
    everyone: tuple[str, ...] = ()  # of every aggregate


def share_of(originator: Any, of: int) -> int:
    """Which of `of` shares an aggregate belongs to, the same in every process and in SQL:
    its id's last hex digit (a UUID on PostgreSQL, its text on SQLite)."""
    low = originator.int & 15 if isinstance(originator, UUID) else int(originator[-1], 16)
    return int(low % of)


def share_filter(
    dialect: str, share: Share, mark: Callable[[str], str]
) -> tuple[str, dict[str, Any]]:
    """The WHERE condition (and its parameters, spelt by `mark`) for the rows of one share:
    a topic under `share.topics` of an aggregate in the share (as `share_of`), or any
    aggregate's topic under `share.everyone`. A superset where LIKE's `_` matches more than
    itself: the reader checks the prefix."""
    params: dict[str, Any] = {f"t{i}": f"{t}%" for i, t in enumerate(share.topics)}
    params |= {f"e{i}": f"{t}%" for i, t in enumerate(share.everyone)}
    mine = " OR ".join(f"topic LIKE {mark(f't{i}')}" for i in range(len(share.topics)))
    anyone = [f"topic LIKE {mark(f'e{i}')}" for i in range(len(share.everyone))]
    if dialect == "postgresql":
        params |= {"of": share.of, "part": share.part}
        # psycopg's placeholders start with %, so the modulo is spelt %%
        ours = f"(get_byte(uuid_send(originator_id), 15) & 15) %% {mark('of')} = {mark('part')}"
    else:
        # The id's text: its last character among this share's digits, either case (a
        # plain comparison per row, cheaper than computing the digit's value).
        digits = [d for d in HEX if int(d, 16) % share.of == share.part]
        digits += [d.upper() for d in digits if d.isalpha()]
        params |= {f"d{i}": d for i, d in enumerate(digits)}
        listed = ", ".join(mark(f"d{i}") for i in range(len(digits)))
        ours = f"substr(originator_id, -1) IN ({listed})"
    return " OR ".join([f"(({mine}) AND {ours})", *anyone]), params
