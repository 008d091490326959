"""docs/events.md describes the events and their versioning as the code has them."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from eventsourcing.domain import Aggregate

from domain.line_request import LineRequest
from domain.usage import UsageBatch
from domain.workspace import Workspace

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
AGGREGATES: list[type[Aggregate]] = [LineRequest, Workspace, UsageBatch]


def doc() -> str:
    assert DOC.is_file(), f"{DOC} is missing"
    return DOC.read_text()


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", doc(), re.M | re.S)
    assert match, f"docs/events.md has no section {title!r}"
    return match[1]


def event_classes(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    """The aggregate's own event classes: not the `Event` base, and not the default
    `Created` class when `__init__` records a created event of another name."""
    found = {
        value
        for name in dir(aggregate)
        if isinstance(value := getattr(aggregate, name), type)
        and issubclass(value, Aggregate.Event)
        and value is not aggregate.Event
    }
    created = [c for c in found if issubclass(c, Aggregate.Created)]
    if len(created) > 1:
        found.discard(aggregate.Created)
    return sorted(found, key=lambda c: c.__name__)


@pytest.mark.parametrize("aggregate", AGGREGATES, ids=lambda a: a.__name__)
def test_the_docs_list_every_event_of_each_aggregate(aggregate: type[Aggregate]) -> None:
    match = re.search(rf"`{aggregate.__name__}`:\s*([^.]*)\.", section("The events"))
    assert match, f"the events of {aggregate.__name__} are not listed"
    listed = {name.strip() for name in match[1].split(",")}
    assert listed == {c.__name__ for c in event_classes(aggregate)}


def test_every_versioned_event_has_each_upcast_step_the_docs_require() -> None:
    for aggregate in AGGREGATES:
        for cls in event_classes(aggregate):
            version = getattr(cls, "class_version", 1)
            for n in range(1, version):
                assert callable(getattr(cls, f"upcast_v{n}_v{n + 1}", None)), cls.__qualname__


def test_the_docs_show_the_activated_upcast_as_the_code_has_it() -> None:
    text = section("The upcast we have: `Activated` v2")
    [block] = re.findall(r"```python\n(.*?)```", text, re.S)
    source = {line.strip() for line in inspect.getsource(LineRequest.Activated).splitlines()}
    for line in block.splitlines():
        assert line.strip() in source, f"not in the code: {line!r}"
    assert f"class_version = {LineRequest.Activated.class_version}" in block
    state: dict[str, object] = {"phone": None, "email": "a@example.com", "provider_ref": "p"}
    LineRequest.Activated.upcast_v1_v2(state)
    assert state["server_url"] is None
    assert "server_url: null" in text and "tests/audit" in text
