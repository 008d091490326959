"""The projections' reader of the log (`ApplicationLog`) decodes a stored row to the same
event as the library's mapper, on both backends: it takes a shorter path once it has seen
a topic, so it is compared with the mapper over a log of every lifecycle, upcasting and
workspace events included."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Plan
from projections.eventlog import ApplicationLog, Undecodable
from tests.audit.conftest import Story
from tests.audit.test_event_versioning import store_activated_v1
from tests.conftest import make_tenant
from tests.http.helpers import created, phone_body


def every_row(services: Services, log: ApplicationLog) -> list[Any]:
    with services.database.read_engine.connect() as conn:
        return list(log.rows(conn, 0, 100_000))


def mapped(services: Services, row: Any) -> Any:
    originator = row.originator_id
    return services.app.mapper.to_domain_event(
        Notification(
            id=row.id,
            originator_id=originator if isinstance(originator, UUID) else UUID(originator),
            originator_version=row.originator_version,
            topic=row.topic,
            state=bytes(row.state),
        )
    )


def test_every_event_decodes_as_the_mapper_decodes_it(
    services: Services, client: TestClient, story: Story
) -> None:
    tenant = make_tenant(services, "org_decoding", Plan.GROWTH)
    legacy = UUID(created(client, tenant, phone_body())["line"]["_id"])
    store_activated_v1(services, legacy)  # stored without class_version: upcast on read
    log = ApplicationLog(services.app)
    rows = every_row(services, log)
    topics = {row.topic for row in rows}
    assert {"Requested", "Invoiced", "Paid", "Activated", "ProvisioningFailed", "Canceled"} <= {
        t.rsplit(".", 1)[1] for t in topics
    }
    for _ in range(2):  # the first pass learns each topic, the second takes the short path
        for row in rows:
            ours, theirs = log.decode(row), mapped(services, row)
            assert type(ours) is type(theirs), row.topic
            assert vars(ours) == vars(theirs), row.topic
    assert set(log._kinds) == topics
    [activated] = [r for r in rows if r.originator_id in (legacy, legacy.hex)][-1:]
    assert log.decode(activated).server_url is None


def test_a_row_that_cannot_be_decoded_stands_for_its_error(
    services: Services, story: Story
) -> None:
    log = ApplicationLog(services.app)
    row = every_row(services, log)[0]
    log.decode(row)  # learnt: the next one takes the short path
    broken = row._replace(state=b"{not json")
    decoded = log.decode(broken)
    assert isinstance(decoded, Undecodable)
    assert decoded.originator_version == row.originator_version
