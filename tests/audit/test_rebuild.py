"""`tuco projections rebuild [NAME]` ends with the rows the live projection has, is
resumable, runs once at a time, covers every projection and survives writes during its
swap; `tuco projections status` shows position, head and lag (SPEC §5, §6 invariant 4)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

import pytest
from sqlalchemy import Connection, inspect, select, update

from adapters.config import Settings
from api.bootstrap import Services, build
from application.usage import UsageItem
from projections.rebuild import Progress, RebuildRunning
from projections.schema import line_usage, line_views
from tests.audit.conftest import Tuco, head, position, rebuilder, rows
from tests.audit.generate import Generated, events_for, generate
from tests.support.databases import postgres_url
from tests.support.server import TUCO

SHADOW = "lines:rebuild"


def has_shadow_table(services: Services) -> bool:
    with services.database.read_engine.connect() as conn:
        return inspect(conn).has_table("line_views_rebuild")


class Interrupt:
    """A progress report that stops the rebuild (as Ctrl-C would) after `after` batches."""

    def __init__(self, after: int = 1) -> None:
        self.after = after
        self.seen: list[Progress] = []

    def __call__(self, progress: Progress) -> None:
        self.seen.append(progress)
        if len(self.seen) >= self.after:
            raise KeyboardInterrupt


def test_a_rebuild_from_position_0_ends_with_exactly_the_rows_maintained_live(
    services: Services,
) -> None:
    generate(services, 3, 20, activate_every=3)
    live = rows(services)
    assert len(live) == 60
    seen: list[Progress] = []
    reached = rebuilder(services, batch=50).rebuild(seen.append)
    assert reached == head(services) == position(services)
    assert rows(services) == live
    assert [p.done for p in seen] == [*range(50, head(services), 50), head(services)]
    assert position(services, SHADOW) is None and not has_shadow_table(services)


def test_an_interrupted_rebuild_resumes_from_the_shadows_position(
    services: Services,
) -> None:
    generate(services, 4, 25, activate_every=5, seed="first")
    first_head = head(services)
    interrupt = Interrupt(after=2)
    with pytest.raises(KeyboardInterrupt):
        rebuilder(services, batch=40).rebuild(interrupt)
    assert [p.done for p in interrupt.seen] == [40, 80]
    assert position(services, SHADOW) == 80
    assert has_shadow_table(services)
    assert position(services) == first_head  # the live projection is untouched

    # Life goes on meanwhile: more events, projected live; and a live row gets corrupted.
    generate(services, 2, 10, seed="second")
    expected = rows(services)
    assert len(expected) == 4 * 25 + 2 * 10
    victim = next(iter(expected))
    with services.database.write_engine.begin() as conn:
        conn.execute(update(line_views).where(line_views.c.id == victim).values(state="failed"))

    resumed: list[Progress] = []
    reached = rebuilder(services, batch=40).rebuild(resumed.append)
    assert resumed[0].done == 80 + 40, "the second run did not start from the shadow's position"
    assert reached == head(services) == position(services)
    assert rows(services) == expected
    assert position(services, SHADOW) is None and not has_shadow_table(services)
    assert services.audit.verify().mismatches == []


def test_an_interrupted_rebuild_keeps_serving_the_old_rows_until_it_is_finished(
    services: Services, tuco: Tuco
) -> None:
    generate(services, 2, 30)
    live = rows(services)
    with pytest.raises(KeyboardInterrupt):
        rebuilder(services, batch=25).rebuild(Interrupt(after=1))
    assert rows(services) == live
    assert services.requests.list_lines("org_gen_0000")  # still answered from the live rows
    r = tuco("projections", "rebuild")  # the CLI resumes the same shadow
    assert r.code == 0, r.err
    assert rows(services) == live
    assert tuco("audit", "verify").code == 0


def test_an_interrupted_rebuild_releases_its_lease(services: Services) -> None:
    generate(services, 1, 30)
    with pytest.raises(KeyboardInterrupt):
        rebuilder(services, batch=20, holder="first").rebuild(Interrupt(after=1))
    other = rebuilder(services, holder="second")
    assert other.lease.acquire()
    other.lease.release()


def test_a_second_rebuild_is_refused_while_one_holds_the_lease(services: Services) -> None:
    generate(services, 1, 10)
    live = rows(services)
    holder = services.rebuilder()
    assert holder.lease.acquire()
    try:
        with pytest.raises(RebuildRunning):
            services.rebuilder().rebuild()
        assert position(services, SHADOW) is None  # it did nothing
        assert not rebuilder(services, holder="third").lease.acquire()  # nor freed the lease
    finally:
        holder.lease.release()
    assert services.rebuilder().rebuild() == head(services)
    assert rows(services) == live


def tuco_process(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TUCO_DATABASE_URL": database_url, "TUCO_BILLING": "sandbox"}
    return subprocess.run(
        [TUCO, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_cli_exits_non_zero_while_another_rebuild_holds_the_lease(
    services: Services, database_url: str
) -> None:
    generate(services, 1, 10)
    live = rows(services)
    holder = services.rebuilder()
    assert holder.lease.acquire()
    try:
        done = tuco_process(database_url, "projections", "rebuild")
    finally:
        holder.lease.release()
    assert done.returncode != 0
    assert "already running" in done.stderr
    assert "rebuilt lines" not in done.stdout
    assert rows(services) == live


def test_the_cli_says_a_rebuild_is_already_running_without_a_traceback(
    services: Services, tuco: Tuco
) -> None:
    generate(services, 1, 10)
    holder = services.rebuilder()
    assert holder.lease.acquire()
    try:
        r = tuco("projections", "rebuild")  # an exception escaping main() is a traceback
    finally:
        holder.lease.release()
    assert r.code == 1
    assert r.err.strip() == "error: A rebuild of projection 'lines' is already running."


def test_a_rebuild_that_is_running_refuses_another_one(services: Services) -> None:
    generate(services, 2, 20)
    refusals: list[Exception] = []

    def try_another(progress: Progress) -> None:
        try:
            rebuilder(services, holder="intruder").rebuild()
        except RebuildRunning as e:
            refusals.append(e)

    rebuilder(services, batch=30, holder="owner").rebuild(try_another)
    assert len(refusals) == head(services) // 30 + 1
    assert all("already running" in str(e) for e in refusals)
    assert services.audit.verify().mismatches == []


def test_rebuild_of_an_unknown_projection_exits_non_zero(tuco: Tuco) -> None:
    r = tuco("projections", "rebuild", "nope")
    assert r.code != 0
    assert "nope" in r.err and "lines" in r.err


def test_the_cli_rebuild_prints_the_position_and_rate(services: Services, tuco: Tuco) -> None:
    generate(services, 2, 20)
    r = tuco("projections", "rebuild", "lines")
    assert r.code == 0, r.err
    match = re.fullmatch(
        r"rebuilt lines up to position (\d+) in [\d.]+ s \((\d+) events/s\)", r.out.strip()
    )
    assert match, r.out
    assert int(match[1]) == head(services)
    assert re.search(rf"lines: {head(services)}/{head(services)} events, \d+ events/s", r.err)


STATUS_ROW = re.compile(r"^(\w+)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(\d+)$")


def status_rows(tuco: Tuco) -> dict[str, tuple[int, int, int]]:
    """`tuco projections status`: (position, head, lag) by projection name."""
    r = tuco("projections", "status")
    assert r.code == 0, r.err
    header, *lines = r.out.strip().splitlines()
    assert header.split() == ["projection", "position", "head", "lag", "set", "aside"]
    found = {}
    for line in lines:
        if line.startswith("set aside:"):
            continue
        match = STATUS_ROW.match(line)
        assert match, line
        found[match[1]] = (int(match[2]), int(match[3]), int(match[4]))
    return found


def status(tuco: Tuco) -> tuple[int, int, int]:
    """The `lines` row of the status."""
    rows_ = status_rows(tuco)
    assert "lines" in rows_, rows_
    position_, head_, lag = rows_["lines"]
    assert lag == head_ - position_
    return position_, head_, lag


def test_status_shows_position_head_and_lag(services: Services, tuco: Tuco) -> None:
    assert status(tuco) == (0, 0, 0)
    generate(services, 2, 10)
    caught_up = head(services)
    assert status(tuco) == (caught_up, caught_up, 0)

    written = generate(services, 1, 5, seed="late", catch_up=False).events
    assert written == events_for(1, 5)
    assert status(tuco) == (caught_up, caught_up + written, written)

    services.read_model.catch_up()
    assert status(tuco) == (caught_up + written, caught_up + written, 0)


def test_status_after_a_rebuild_shows_no_lag(services: Services, tuco: Tuco) -> None:
    generate(services, 1, 10, catch_up=False)
    assert status(tuco)[2] == head(services)
    assert tuco("projections", "rebuild").code == 0
    assert status(tuco) == (head(services), head(services), 0)


def test_the_rebuilt_rows_equal_a_fresh_projection_of_the_same_requests(
    services: Services,
) -> None:
    """Invariant 4, with rows produced by the request path rather than the generator."""
    generate(services, 1, 5)
    request_id = UUID(next(iter(rows(services))))
    services.provisioning.activate(request_id, "+15550199", None, provider_ref="x")
    services.read_model.wait_for()  # the projection follows the write
    live = rows(services)
    services.rebuilder().rebuild()
    assert rows(services) == live


def record_usage(services: Services, request_ids: list[UUID]) -> None:
    at = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    items = [UsageItem(rid, at, new_conversation=True, messages=n + 2) for n, rid in
             enumerate(request_ids)]  # fmt: skip
    services.usage.record("batch-1", items)


def usage_rows(services: Services) -> dict[tuple[str, str], tuple[int, int]]:
    with services.database.read_engine.connect() as conn:
        return {
            (r.line_id, r.day): (r.new_conversations, r.total_messages)
            for r in conn.execute(select(line_usage))
        }


def corrupt_usage(services: Services) -> None:
    with services.database.write_engine.begin() as conn:
        assert conn.execute(update(line_usage).values(total_messages=9999)).rowcount > 0


def test_the_usage_projection_is_rebuilt_from_the_log(services: Services) -> None:
    store = generate(services, 1, 3)
    record_usage(services, store.lines["org_gen_0000"])
    healthy = usage_rows(services)
    assert len(healthy) == 3
    corrupt_usage(services)
    services.rebuilder("usage").rebuild()
    assert usage_rows(services) == healthy


def test_every_projection_that_status_lists_can_be_rebuilt_by_name(
    services: Services, tuco: Tuco
) -> None:
    generate(services, 1, 3)
    names = list(status_rows(tuco))
    assert "lines" in names
    for name in names:
        r = tuco("projections", "rebuild", name)
        assert r.code == 0, f"tuco projections rebuild {name}: {r.err}"


def test_a_rebuild_without_a_name_rebuilds_every_projection(services: Services, tuco: Tuco) -> None:
    store = generate(services, 1, 3)
    record_usage(services, store.lines["org_gen_0000"])
    healthy_lines, healthy_usage = rows(services), usage_rows(services)
    corrupt_usage(services)
    with services.database.write_engine.begin() as conn:
        conn.execute(update(line_views).values(first_name="Mallory"))
    r = tuco("projections", "rebuild")
    assert r.code == 0, r.err
    assert rows(services) == healthy_lines
    assert usage_rows(services) == healthy_usage, "the usage projection was not rebuilt"


@pytest.fixture
def pg_services(_postgres_ok: bool) -> Iterator[Services]:
    """Services on PostgreSQL only: there, unlike SQLite, a write can commit while the swap's
    transaction is open (the swap holds advisory locks, not the database's write lock)."""
    if not _postgres_ok:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 under CI")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    with postgres_url() as url:
        services = build(Settings(database_url=url))
        try:
            yield services
        finally:
            services.close()


def test_a_write_committed_during_the_swap_neither_fails_the_rebuild_nor_is_lost(
    pg_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The swap brings the live read model up to the head, then the shadow: a request saved
    by another process between those two steps must not make the two positions disagree."""
    services = pg_services
    generate(services, 1, 10)
    r = services.rebuilder()
    live = r.live_runner
    apply_batch = live.apply_batch
    written: list[Generated] = []

    def apply_then_another_process_writes(conn: Connection) -> tuple[int, int]:
        reached, count = apply_batch(conn)
        if count < live.batch and not written:  # the live read model reached the head
            written.append(generate(services, 1, 2, seed="meanwhile", catch_up=False))
        return reached, count

    monkeypatch.setattr(live, "apply_batch", apply_then_another_process_writes)
    r.rebuild()
    monkeypatch.undo()
    assert written and written[0].events > 0
    services.read_model.catch_up()
    assert len(rows(services)) == 12
    assert services.audit.verify().mismatches == []
