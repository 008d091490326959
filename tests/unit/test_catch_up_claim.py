"""One catch-up from far behind at a time (projections.claim), with a fake lease: taken only
when far behind, one thread of a process at a time, a refusal remembered for a moment, a
database failure raised, a failed release only logged. No database."""

from __future__ import annotations

import logging

import pytest

from application.errors import ServiceBusy
from projections.claim import CatchUpClaim


class FakeLease:
    def __init__(self, free: bool = True) -> None:
        self.free = free
        self.asked = 0
        self.released = 0
        self.fail_release = False

    def try_acquire(self) -> bool:
        self.asked += 1
        return self.free

    def release(self) -> None:
        if self.fail_release:
            raise ServiceBusy("The event store is unavailable: disk full")
        self.released += 1


def test_following_near_the_head_claims_nothing() -> None:
    lease = FakeLease(free=False)
    with CatchUpClaim(lease, from_events=100).turn(0, 99) as turn:
        assert turn.ours and turn.still_ours()
    assert lease.asked == 0 and lease.released == 0


def test_far_behind_the_lease_is_taken_renewed_and_released() -> None:
    lease = FakeLease()
    with CatchUpClaim(lease, from_events=100).turn(0, 100) as turn:
        assert turn.ours
        assert turn.still_ours()
        lease.free = False  # taken over by another process after a long stall
        assert not turn.still_ours()
    assert lease.asked == 3 and lease.released == 1


def test_a_refusal_is_remembered_so_a_follower_pass_does_not_ask_each_time() -> None:
    lease = FakeLease(free=False)
    claim = CatchUpClaim(lease, from_events=1)
    for _ in range(5):
        with claim.turn(0, 10) as turn:
            assert not turn.ours
    assert lease.asked == 1 and lease.released == 0
    claim.refusal_memory = 0.0
    claim._refused_until = 0.0
    lease.free = True
    with claim.turn(0, 10) as turn:
        assert turn.ours
    assert lease.asked == 2 and lease.released == 1


def test_one_thread_of_a_process_at_a_time() -> None:
    lease = FakeLease()
    claim = CatchUpClaim(lease, from_events=1)
    with claim.turn(0, 10) as first, claim.turn(0, 10) as second:
        assert first.ours and not second.ours
    assert lease.asked == 1 and lease.released == 1
    with claim.turn(0, 10) as again:
        assert again.ours


def test_a_database_failure_is_raised_not_taken_for_another_holder() -> None:
    class Down(FakeLease):
        def try_acquire(self) -> bool:
            raise ServiceBusy("The event store is unavailable: database is locked")

    claim = CatchUpClaim(Down(), from_events=1)
    with pytest.raises(ServiceBusy), claim.turn(0, 10):
        pass
    assert not claim._here.locked()  # the next pass may try again


def test_a_failed_release_is_logged_and_the_lease_left_to_expire(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lease = FakeLease()
    lease.fail_release = True
    claim = CatchUpClaim(lease, from_events=1)
    with caplog.at_level(logging.WARNING, logger="projections.claim"), claim.turn(0, 10) as turn:
        assert turn.ours
    assert "the claim was not released" in caplog.text
