"""The retry and disable policy of outbound webhooks (pure, no database)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from domain.webhooks import RetryPolicy

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    policy = RetryPolicy(base=timedelta(seconds=5), cap=timedelta(hours=1))
    rng = random.Random(7)
    for attempts, ceiling in [(1, 5), (2, 10), (3, 20), (8, 640), (12, 3600), (40, 3600)]:
        for _ in range(50):
            delay = policy.delay(attempts, rng).total_seconds()
            assert ceiling / 2 <= delay <= ceiling, (attempts, delay)


def test_jitter_spreads_retries() -> None:
    policy = RetryPolicy()
    delays = {policy.delay(3, random.Random(seed)) for seed in range(20)}
    assert len(delays) > 10


def test_an_endpoint_is_disabled_after_failing_for_the_whole_window() -> None:
    policy = RetryPolicy(disable_after=timedelta(hours=24))
    almost = policy.after_failure(30, NOW - timedelta(hours=23, minutes=59), NOW)
    assert not almost.disable and almost.retry_at is not None and almost.retry_at > NOW
    assert policy.after_failure(31, NOW - timedelta(hours=24), NOW).disable
