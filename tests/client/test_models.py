"""The client's models name every field the server's answer Structs have (api/schemas.py),
so an answer the server documents decodes into the client's types."""

from __future__ import annotations

import msgspec
import pytest

from api import examples, schemas
from domain.enums import LineState
from tuco_client import models

PAIRS = [
    (schemas.Line, models.Line),
    (schemas.Usage, models.Usage),
    (schemas.HealthCheck, models.HealthCheck),
    (schemas.LineRequestAnswer, models.LineRequest),
    (schemas.LinesAnswer, models.LinesPage),
    (schemas.LineRequestsAnswer, models.LineRequestsPage),
    (schemas.Event, models.Event),
    (schemas.EventsAnswer, models.EventList),
]


def wire_names(kind: type) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(kind)}


@pytest.mark.parametrize(("server", "client"), PAIRS, ids=lambda k: k.__name__)
def test_the_client_model_has_the_servers_wire_fields(server: type, client: type) -> None:
    assert wire_names(client) == wire_names(server)


def test_the_documented_examples_decode_into_the_client_models() -> None:
    answer = msgspec.json.decode(msgspec.json.encode(examples.ACTIVE_ANSWER),
                                 type=models.LineRequest)  # fmt: skip
    assert answer.status is models.Status.ACTIVE and answer.line.is_active
    msgspec.json.decode(msgspec.json.encode(examples.EVENTS_ANSWER), type=models.EventList)
    for state in LineState:
        assert models.Status(state.value).value == state.value
