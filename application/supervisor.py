"""A watchdog for a background thread: if the thread ends although nobody asked it to
stop, it is started again after a delay (1 s, doubling to 60 s), and the restarts are
counted for the health endpoints."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def next_delay(previous: float | None, first: float, cap: float) -> float:
    """The wait before the next restart: `first`, then doubling up to `cap`."""
    return first if previous is None else min(cap, previous * 2)


class Supervised:
    """Runs `target(stop)` in a daemon thread named `name`, restarted by a watchdog thread
    whenever it ends before `stop` is set. A thread that ran for `healthy_after` seconds
    before dying starts the delays from `first_delay` again."""

    def __init__(
        self,
        name: str,
        target: Callable[[threading.Event], None],
        first_delay: float = 1.0,
        max_delay: float = 60.0,
        healthy_after: float = 60.0,
    ) -> None:
        self.name = name
        self.target = target
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.healthy_after = healthy_after
        self.stop = threading.Event()
        self.restarts = 0
        self.last_error: str | None = None
        self.delays: list[float] = []  # every wait before a restart, oldest first
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        """Whether the supervised thread is running now."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread and its watchdog (once)."""
        if self._watchdog is not None:
            return
        self._spawn()
        self._watchdog = threading.Thread(
            target=self._watch, name=f"{self.name}-watchdog", daemon=True
        )
        self._watchdog.start()

    def close(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop and wait for it (and the watchdog) to end."""
        self.stop.set()
        for thread in (self._watchdog, self._thread):
            if thread is not None:
                thread.join(timeout=timeout)

    def _spawn(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.target(self.stop)
        except BaseException as e:  # supervised: logged, and the watchdog restarts it
            self.last_error = repr(e)
            log.critical("background thread %s died", self.name, exc_info=True)

    def _watch(self) -> None:
        delay: float | None = None
        while not self.stop.is_set():
            thread = self._thread
            started = time.monotonic()
            if thread is not None:
                thread.join()
            if self.stop.is_set():
                return
            if time.monotonic() - started >= self.healthy_after:
                delay = None
            delay = next_delay(delay, self.first_delay, self.max_delay)
            self.delays.append(delay)
            log.error("background thread %s ended; restarting it in %.0f s", self.name, delay)
            if self.stop.wait(delay):
                return
            self.restarts += 1
            self._spawn()
