"""`tuco audit verify` replays every request and compares it with the read model; a
hand-corrupted projection is found, and `tuco projections rebuild` repairs it (SPEC §5,
§6 invariants 3 and 4)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from sqlalchemy import delete, insert, update

from api.bootstrap import Services
from projections.schema import line_views
from tests.audit.conftest import Story, Tuco, head, rows

SUMMARY = re.compile(
    r"^verified (\d+) requests \((\d+) events\) against (\d+) read-model rows: (\d+) mismatches$"
)


def summary(out: str) -> tuple[int, int, int, int]:
    match = SUMMARY.match(out.strip().splitlines()[-1])
    assert match, out
    requests, events, rows_, mismatches = (int(g) for g in match.groups())
    return requests, events, rows_, mismatches


def mismatch_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("mismatch: ")]


def set_column(column: str, value: object) -> Callable[[Services, str], None]:
    def corrupt(services: Services, request_id: str) -> None:
        with services.database.write_engine.begin() as conn:
            changed = conn.execute(
                update(line_views).where(line_views.c.id == request_id).values({column: value})
            ).rowcount
        assert changed == 1

    return corrupt


def delete_row(services: Services, request_id: str) -> None:
    with services.database.write_engine.begin() as conn:
        assert conn.execute(delete(line_views).where(line_views.c.id == request_id)).rowcount == 1


def test_verify_of_a_healthy_store_exits_0_with_no_mismatches(
    tuco: Tuco, story: Story, services: Services
) -> None:
    r = tuco("audit", "verify")
    assert r.code == 0, r.out + r.err
    assert mismatch_lines(r.out) == []
    requests, events, rows_, mismatches = summary(r.out)
    assert (requests, rows_, mismatches) == (5, 5, 0)
    # active 5, awaiting 2, canceled 4 (its invoice is voided at once), provisioning 2,
    # failed 3; the rest of the log is the two workspaces' events.
    assert events == 16
    assert events < head(services)


def test_verify_of_an_empty_store_exits_0(tuco: Tuco) -> None:
    r = tuco("audit", "verify")
    assert r.code == 0, r.out + r.err
    assert summary(r.out) == (0, 0, 0, 0)


def test_verify_projects_what_was_written_but_not_yet_projected(
    tuco: Tuco, story: Story, services: Services
) -> None:
    """A writer that died between its save and its catch-up leaves the read model behind;
    verify catches it up first, so that is not reported as a mismatch."""
    req = services.app.line_request(UUID(story.provisioning))
    req.activate(phone="+15550100", email=None, provider_ref="late")
    services.app.save(req)
    assert rows(services)[story.provisioning]["state"] == "provisioning"
    r = tuco("audit", "verify")
    assert r.code == 0, r.out
    assert rows(services)[story.provisioning]["state"] == "active"


CORRUPTIONS: dict[str, tuple[Callable[[Services, str], None], str]] = {
    # name: (how the row is corrupted, what the mismatch line must say besides the id)
    "state": (set_column("state", "failed"), "state"),
    "first_name": (set_column("first_name", "Mallory"), "first_name"),
    "payment_status": (set_column("payment_status", "refunded"), "payment_status"),
    "version": (set_column("version", 99), "version"),
    "deleted row": (delete_row, "has no row"),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_a_corrupted_row_is_found_by_verify_and_repaired_by_rebuild(
    tuco: Tuco, story: Story, services: Services, corruption: str
) -> None:
    corrupt, says = CORRUPTIONS[corruption]
    healthy = rows(services)
    corrupt(services, story.active)

    r = tuco("audit", "verify")
    assert r.code == 1, r.out
    [line] = mismatch_lines(r.out)
    assert story.active in line and says in line
    assert summary(r.out)[3] == 1

    r = tuco("projections", "rebuild")
    assert r.code == 0, r.out + r.err
    assert rows(services) == healthy
    r = tuco("audit", "verify")
    assert r.code == 0, r.out
    assert summary(r.out)[3] == 0


def test_a_row_with_no_request_is_found_by_verify_and_removed_by_rebuild(
    tuco: Tuco, story: Story, services: Services
) -> None:
    healthy = rows(services)
    stray = str(uuid4())
    now = datetime.now(UTC)
    with services.database.write_engine.begin() as conn:
        conn.execute(
            insert(line_views).values(
                {**healthy[story.provisioning], "id": stray, "created_at": now, "updated_at": now}
            )
        )
    r = tuco("audit", "verify")
    assert r.code == 1, r.out
    assert mismatch_lines(r.out) == [f"mismatch: {stray}: row has no request in the log"]
    assert summary(r.out) == (5, 16, 6, 1)

    assert tuco("projections", "rebuild").code == 0
    assert rows(services) == healthy
    assert tuco("audit", "verify").code == 0


def test_every_corrupted_row_is_listed(tuco: Tuco, story: Story, services: Services) -> None:
    set_column("state", "active")(services, story.failed)
    set_column("first_name", "Eve")(services, story.awaiting)
    delete_row(services, story.canceled)
    r = tuco("audit", "verify")
    assert r.code == 1
    found = mismatch_lines(r.out)
    assert len(found) == 3 and summary(r.out)[3] == 3
    for request_id in (story.failed, story.awaiting, story.canceled):
        assert any(request_id in line for line in found), found
    assert tuco("projections", "rebuild").code == 0
    assert tuco("audit", "verify").code == 0


# Columns the API shows (paymentLinkUrl, the daily limits, createdAt/updatedAt, healthCheck)
# or the worker acts on (server_url) are as much a part of the projection as the state, and
# follow from the events as strictly.
SHOWN_COLUMNS: dict[str, tuple[str, object]] = {
    "payment_url": ("awaiting", "https://evil.example/pay"),
    "daily_total_messages_limit": ("active", 1),
    "created_at": ("active", datetime(2001, 1, 1, tzinfo=UTC)),
    "updated_at": ("failed", datetime(2001, 1, 1, tzinfo=UTC)),
    "server_url": ("active", "https://evil.example/health"),  # probed by the worker
    "health_status": ("active", "unhealthy"),
}


@pytest.mark.parametrize("column", SHOWN_COLUMNS)
def test_a_corrupted_column_that_the_api_shows_is_found_by_verify(
    tuco: Tuco, story: Story, services: Services, column: str
) -> None:
    which, value = SHOWN_COLUMNS[column]
    request_id = getattr(story, which)
    set_column(column, value)(services, request_id)
    r = tuco("audit", "verify")
    assert r.code == 1, f"verify did not notice a corrupted {column}:\n{r.out}"
    [line] = mismatch_lines(r.out)
    assert request_id in line and column in line
