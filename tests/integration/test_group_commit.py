"""Group commit: commands queued together are stored in one transaction; a batch that lost
an optimistic-concurrency race to another process is reloaded and decided again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.config import Settings
from api.bootstrap import Services, build
from domain.decisions import LineDetails
from domain.enums import Billing, Channel, LineState, LineType, Plan, RequestSource
from domain.errors import PaymentPending
from tests.support.fakes import FakeClock


def phone(workspace_id: str, key: str | None = None) -> LineDetails:
    return LineDetails(
        workspace_id=workspace_id,
        channel=Channel.PHONE,
        line_type=LineType.PURCHASED,
        first_name="Ada",
        last_name="Lovelace",
        email=None,
        phone=None,
        source=RequestSource.API,
        idempotency_key=key,
    )


class CountedInserts:
    """Counts the event store's insert transactions; the first one waits for `release`, so
    that the commands submitted meanwhile queue up behind it."""

    def __init__(self, services: Services) -> None:
        self.calls = 0
        self.release = threading.Event()
        self.real = services.app.recorder.insert_events

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self.release.wait(10)
        return self.real(*args, **kwargs)


def test_n_concurrent_commands_on_different_workspaces_take_fewer_than_n_transactions(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 32
    names = [f"org_gc_{i:02d}" for i in range(n + 1)]
    for name in names:
        services.workspaces.create(name, Plan.GROWTH, name, True)
    inserts = CountedInserts(services)
    monkeypatch.setattr(services.app.recorder, "insert_events", inserts)

    first = services.requests.submit_request(phone(names[0]))
    futures = [services.requests.submit_request(phone(name)) for name in names[1:]]
    inserts.release.set()
    views = [f.result(timeout=30)[0] for f in [first, *futures]]

    assert [v.workspace_id for v in views] == names
    assert all(v.state is LineState.PROVISIONING for v in views)
    assert inserts.calls < n + 1, f"{n + 1} commands took {inserts.calls} transactions"
    assert inserts.calls <= 2  # the first (alone or not), then everything queued behind it
    for view in views:  # every acknowledged command is in the log
        assert services.app.line_request(view.id).state is LineState.PROVISIONING


def test_commands_on_one_workspace_in_one_batch_see_each_other(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decided in order against the same cached workspace: 2 included, 1 add-on, and the
    rest refused with payment_pending, although all were stored in two transactions."""
    services.workspaces.create("org_busy", Plan.GROWTH, "Busy", True)
    inserts = CountedInserts(services)
    monkeypatch.setattr(services.app.recorder, "insert_events", inserts)
    futures = [services.requests.submit_request(phone("org_busy")) for _ in range(8)]
    inserts.release.set()
    outcomes: list[Billing | str] = []
    for f in futures:
        try:
            outcomes.append(f.result(timeout=30)[0].billing)
        except PaymentPending:
            outcomes.append("payment_pending")
    assert outcomes == [Billing.INCLUDED, Billing.INCLUDED, Billing.ADDON] + ["payment_pending"] * 5
    assert inserts.calls <= 2


@pytest.fixture
def other_process(settings: Settings) -> Iterator[Services]:
    """A second, independent set of services on the same database, as another process."""
    s = build(settings, clock=FakeClock())
    try:
        yield s
    finally:
        s.close()


def test_a_batch_decided_on_a_stale_workspace_is_reloaded_and_decided_again(
    services: Services, other_process: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.workspaces.create("org_race", Plan.GROWTH, "Race", True)
    services.requests.request_line(phone("org_race"))  # cached here: 1 phone held
    other_process.requests.request_line(phone("org_race"))  # 2 held, unknown here
    # Without the log check, this process decides on its stale copy (1 held: included),
    # its save conflicts on the workspace's version, and the retry decides on 2 held.
    monkeypatch.setattr(services.app.aggregates, "refresh", lambda: None)
    third = services.requests.request_line(phone("org_race"))
    assert third.billing is Billing.ADDON and third.state is LineState.AWAITING_PAYMENT
    ws = other_process.app.workspace("org_race")
    assert ws.held_slots(Channel.PHONE) == 3 and ws.awaiting_payment == third.id


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has no such lock
def test_a_writer_whose_lock_session_died_while_idle_takes_a_new_one(
    services: Services,
) -> None:
    """PostgreSQL: the writer keeps its advisory-lock session open between batches. When the
    server drops that session (a restart, an idle timeout), the next command still commits
    instead of failing once."""
    assert services.write_lock is not None
    services.workspaces.create("org_lock", Plan.GROWTH, "org_lock", True)
    services.requests.submit_request(phone("org_lock")).result()
    lock = services.write_lock._conn
    assert lock is not None
    pid = lock.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with services.database.write_engine.connect() as admin:
        assert admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar()
        admin.commit()
    view, created = services.requests.submit_request(phone("org_lock")).result()
    assert created and view.state is LineState.PROVISIONING
    assert services.write_lock._conn is not None and services.write_lock._conn is not lock
