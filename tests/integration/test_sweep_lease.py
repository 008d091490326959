"""Sweeps never run twice at once across processes (issue 12 point 3): the worker lease
holder is frozen in the middle of a sweep (as a SIGSTOP or a kill -9 leaves it: it renews
nothing). Another process gets the lease only after it expired; the frozen one, once woken,
does no further step. Two service instances on one database stand for the two processes;
both backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from adapters.config import Settings
from adapters.lease import SqlLease
from adapters.schema import leases
from api.bootstrap import Services, build
from application.ports import (
    Provisioner,
    ProvisioningOrder,
    ProvisioningOutcome,
    ProvisioningState,
)
from domain.decisions import LineDetails
from domain.enums import Channel, LineType, Plan, RequestSource

TTL = 1.0


@dataclass
class Recording(Provisioner):
    """Answers 'pending' (so every sweep has steps) and notes when each step ran; with
    `freeze` set, the first step blocks until `thaw` (the process is frozen mid-sweep)."""

    freeze: bool = False
    calls: list[datetime] = field(default_factory=list)
    frozen: threading.Event = field(default_factory=threading.Event)
    thaw: threading.Event = field(default_factory=threading.Event)

    def provision(self, order: ProvisioningOrder) -> ProvisioningOutcome:
        self.calls.append(datetime.now(UTC))
        if self.freeze and not self.frozen.is_set():
            self.frozen.set()
            assert self.thaw.wait(60), "never thawed"
        return ProvisioningOutcome(ProvisioningState.PENDING)


@dataclass
class Process:
    services: Services
    provisioner: Recording
    lease: SqlLease
    answers: list[tuple[float, bool]] = field(default_factory=list)  # (monotonic, held)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def is_leader(self) -> bool:
        held = self.lease.acquire()
        self.answers.append((time.monotonic(), held))
        return held

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.services.worker.run_forever, args=(self.stop, 0.02, self.is_leader)
        )
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.services.worker.wake()
        self.provisioner.thaw.set()
        if self.thread is not None:
            self.thread.join(timeout=20)
        self.services.close()


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling a condition with a deadline


@pytest.fixture
def processes(database_url: str) -> Iterator[tuple[Process, Process]]:
    settings = Settings(database_url=database_url, public_url="http://testserver")
    made: list[Process] = []
    for name, freeze in (("a", True), ("b", False)):
        provisioner = Recording(freeze=freeze)
        s = build(replace(settings), provisioner=provisioner)
        lease = SqlLease(s.database.write_engine, "worker", f"process-{name}", ttl=TTL)
        made.append(Process(s, provisioner, lease))
    try:
        yield made[0], made[1]
    finally:
        for p in made:
            p.close()


def included_lines(services: Services, count: int) -> None:
    for n in range(count):
        workspace_id = f"org_lease_{n}"
        services.workspaces.create(workspace_id, Plan.GROWTH, workspace_id, True)
        view = services.requests.request_line(
            LineDetails(
                workspace_id=workspace_id,
                channel=Channel.PHONE,
                line_type=LineType.PURCHASED,
                first_name="Ada",
                last_name="Lovelace",
                email=None,
                phone=None,
                source=RequestSource.API,
            )
        )
        assert view.state.value == "provisioning"


def lease_row(services: Services) -> tuple[str, datetime]:
    with services.database.read_engine.connect() as conn:
        row = conn.execute(select(leases).where(leases.c.name == "worker")).one()
    expires = row.expires_at
    return row.holder, expires if expires.tzinfo else expires.replace(tzinfo=UTC)


def test_a_frozen_holder_is_replaced_only_after_expiry_and_does_nothing_once_woken(
    processes: tuple[Process, Process],
) -> None:
    a, b = processes
    included_lines(a.services, 3)
    a.start()
    assert a.provisioner.frozen.wait(30), "the holder never swept"
    holder, expires = lease_row(a.services)
    assert holder == "process-a"

    b.start()
    wait_until(lambda: len(b.provisioner.calls) >= 3, "the other process to take over")
    assert b.provisioner.calls[0] >= expires  # not one step before the lease expired
    assert lease_row(b.services)[0] == "process-b"
    assert len(a.provisioner.calls) == 1  # frozen in its first step

    woken_at = time.monotonic()
    a.provisioner.thaw.set()
    wait_until(
        lambda: any(t >= woken_at and not held for t, held in a.answers),
        "the woken process to find its lease gone",
    )
    b_steps = len(b.provisioner.calls)
    wait_until(lambda: len(b.provisioner.calls) >= b_steps + 6, "two more sweeps by the new holder")
    assert len(a.provisioner.calls) == 1  # the woken one did no further step
    assert not any(held for t, held in a.answers if t >= woken_at)
