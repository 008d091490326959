"""The sender of outbound status webhooks: a supervised loop that moves the outbox on from
the log, claims the messages that are due, sends them, and records each outcome with the
retry and disable policy.

Each claimed message is leased to this process (`claim_for`), so two processes never send
it at once; a process that dies mid-send loses its claim when the lease expires, and the
message is sent again (at-least-once: receivers deduplicate on `webhook-id`). An
endpoint's messages go out in log order: while one waits for a retry, the ones after it
wait too."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from application.metrics import Tally
from application.ports import Clock
from application.webhooks import Message, SendResult, Transport
from domain.webhooks import RetryPolicy

log = logging.getLogger(__name__)


class DeliveryQueue(ABC):
    """The outbox as the sender works it."""

    @abstractmethod
    def has_due(self, now: datetime) -> bool:
        """Whether any pending message may be due (a cheap read, no lock)."""

    @abstractmethod
    def claim(self, holder: str, now: datetime, until: datetime, limit: int) -> list[Message]:
        """Lease up to `limit` due messages to `holder` until `until`: per enabled
        endpoint, the run of due messages that no earlier pending message holds back, in
        log order."""

    @abstractmethod
    def delivered(self, msg: Message, holder: str, now: datetime, status: int | None) -> None:
        """Record success (and that the endpoint works again)."""

    @abstractmethod
    def failing_since(self, endpoint_id: str, now: datetime) -> datetime:
        """When the endpoint's current run of failures began (now, if this is its first)."""

    @abstractmethod
    def retry_later(
        self, msg: Message, holder: str, result: SendResult, now: datetime, at: datetime
    ) -> None:
        """Record a failed attempt; the message is due again at `at`."""

    @abstractmethod
    def disable(self, msg: Message, result: SendResult, now: datetime, reason: str) -> None:
        """Disable the message's endpoint; its pending messages fail (redeliver resends)."""

    @abstractmethod
    def release(self, msgs: list[Message], holder: str) -> None:
        """Give back claims not used (no attempt counted)."""


class OutboundSender:
    """`outbox` moves the outbox to the log's head (messages exist only for committed
    events). Sends use a few threads, one endpoint per thread, so a slow endpoint (its
    time-out is the transport's) delays only itself; request handling never waits."""

    def __init__(
        self,
        queue: DeliveryQueue,
        transport: Transport,
        outbox: Callable[[], object],
        clock: Clock,
        holder: str,
        policy: RetryPolicy | None = None,
        claim_for: timedelta = timedelta(seconds=60),
        batch: int = 100,
        threads: int = 4,
        tally: Tally | None = None,
    ) -> None:
        self.queue = queue
        self.transport = transport
        self.outbox = outbox
        self.clock = clock
        self.holder = holder
        self.policy = policy or RetryPolicy()
        self.claim_for = claim_for
        self.batch = batch
        # Outcomes by kind "webhook": delivered, retry, disabled (tuco_outbound_deliveries).
        self.tally = tally
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tuco-webhook")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self, *_: object) -> None:
        """A local commit (or anything else) may have made messages: look now."""
        self._wake.set()

    def pass_once(self) -> int:
        """Outbox to the head, then one round of sending; returns messages attempted."""
        self.outbox()
        now = self.clock.now()
        if not self.queue.has_due(now):
            return 0
        claimed = self.queue.claim(self.holder, now, now + self.claim_for, self.batch)
        by_endpoint: dict[str, list[Message]] = {}
        for msg in claimed:
            by_endpoint.setdefault(msg.delivery.endpoint_id, []).append(msg)
        sent = self._pool.map(self._send_in_order, by_endpoint.values())
        return sum(sent)

    def _send_in_order(self, msgs: list[Message]) -> int:
        for i, msg in enumerate(msgs):
            result = self.transport.send(msg.url, msg.secret, msg.delivery.id, msg.payload)
            if result.ok:
                self.queue.delivered(msg, self.holder, self.clock.now(), result.status_code)
                self._count("delivered")
                continue
            self._failed(msg, result)
            self.queue.release(msgs[i + 1 :], self.holder)  # they wait behind this one
            return i + 1
        return len(msgs)

    def _failed(self, msg: Message, result: SendResult) -> None:
        now = self.clock.now()
        since = self.queue.failing_since(msg.delivery.endpoint_id, now)
        decision = self.policy.after_failure(msg.delivery.attempts + 1, since, now)
        if decision.retry_at is None:
            reason = f"failing since {since.isoformat()}: {result.describe()}"
            log.warning("webhook endpoint %s disabled (%s)", msg.delivery.endpoint_id, reason)
            self.queue.disable(msg, result, now, reason)
            self._count("disabled")
            return
        log.info(
            "webhook %s to %s failed (%s); retry at %s", msg.delivery.id,
            msg.delivery.endpoint_id, result.describe(), decision.retry_at.isoformat(),
        )  # fmt: skip
        self.queue.retry_later(msg, self.holder, result, now, decision.retry_at)
        self._count("retry")

    def _count(self, outcome: str) -> None:
        if self.tally is not None:
            self.tally.inc("webhook", outcome)

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        """Supervised: a failing pass is logged and retried with backoff; never dies."""
        delay = interval
        while not stop.is_set():
            try:
                if self.pass_once() >= self.batch:
                    continue  # more are due: no pause
                delay = interval
            except Exception:  # supervised loop: log, back off, go on
                log.exception("webhook sender pass failed (retry in %.2fs)", delay)
                delay = min(delay * 2, 30.0)
            self._wake.wait(delay)
            self._wake.clear()

    def start(self, interval: float) -> None:
        """Run the loop in a daemon thread of this process (until `close`)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.run_forever, args=(self._stop, interval), name="tuco-webhooks",
                daemon=True,
            )  # fmt: skip
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None

    def shutdown(self) -> None:
        """Stop the loop and its sending threads for good."""
        self.close()
        self._pool.shutdown(wait=True, cancel_futures=True)
