"""The event-sourced application: loading and saving aggregates, retries, read-your-writes."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, PersistenceError

from application.errors import ServiceBusy
from application.transcodings import register_domain_transcodings
from application.views import ReadModel
from domain.errors import NotFound
from domain.ids import workspace_aggregate_id
from domain.line_request import LineRequest
from domain.workspace import Workspace

T = TypeVar("T")
log = logging.getLogger(__name__)


class KeyedLocks:
    """One lock per key (a workspace), so commands on one workspace are serialised inside
    a process and optimistic-concurrency conflicts remain only between processes."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    def run(self, key: str, fn: Callable[[], T]) -> T:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                return fn()
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class LinesApp(Application[UUID]):
    """The event store of line requests and workspaces, with the read model it feeds."""

    name = "TucoLines"
    snapshotting_intervals = {Workspace: 100}  # noqa: RUF012 (library API)
    max_attempts = 12

    def __init__(self, env: dict[str, str], read_model: ReadModel | None = None) -> None:
        # Cached aggregates are fast-forwarded with the events stored since (one query), so
        # a busy workspace is not replayed from its snapshot on every command, and a copy
        # cached here never hides another process's writes.
        super().__init__({"AGGREGATE_CACHE_MAXSIZE": "1000", **env})
        self.read_model = read_model
        self.locks = KeyedLocks()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    # --- loading -------------------------------------------------------------------------

    def find_workspace(self, workspace_id: str) -> Workspace | None:
        try:
            ws: Workspace = self.repository.get(workspace_aggregate_id(workspace_id))
        except AggregateNotFoundError:
            return None
        except PersistenceError as e:
            raise store_unavailable(e) from e
        return ws

    def workspace(self, workspace_id: str) -> Workspace:
        ws = self.find_workspace(workspace_id)
        if ws is None:
            raise NotFound("workspace", workspace_id)
        return ws

    def find_request(self, request_id: UUID) -> LineRequest | None:
        try:
            req: object = self.repository.get(request_id)
        except AggregateNotFoundError:
            return None
        except PersistenceError as e:
            raise store_unavailable(e) from e
        return req if isinstance(req, LineRequest) else None

    def line_request(self, request_id: UUID, workspace_id: str | None = None) -> LineRequest:
        """The request, or NotFound, also when it belongs to another workspace."""
        req = self.find_request(request_id)
        if req is None or (workspace_id is not None and req.workspace_id != workspace_id):
            raise NotFound("line request", request_id)
        return req

    # --- saving --------------------------------------------------------------------------

    def commit(self, *aggregates: Aggregate) -> int:
        """Save aggregates atomically and bring the read model up to that write, so any
        process reads it next. Returns the log position of the write."""
        recordings = self.save(*aggregates)
        if not recordings:
            return 0
        position = max(r.notification.id for r in recordings)
        if self.read_model is not None:
            self.read_model.catch_up(position)
        return position

    def command(self, lock_key: str, attempt: Callable[[], T]) -> T:
        """Run get-decide-save `attempt` under the workspace's lock, reloading and retrying
        when another process saved the same aggregate version first."""
        return self.locks.run(lock_key, lambda: self._retry(attempt))

    def _retry(self, attempt: Callable[[], T]) -> T:
        for n in range(self.max_attempts):
            try:
                return attempt()
            except IntegrityError:
                log.debug("version conflict, attempt %d", n + 1)
            except PersistenceError as e:
                raise store_unavailable(e) from e
            time.sleep(random.uniform(0.001, 0.005) * (n + 1))
        raise ServiceBusy("Too many concurrent changes to this workspace; retry shortly.")

    def change_request(
        self,
        request_id: UUID,
        decide: Callable[[LineRequest], list[Aggregate]],
        workspace_id: str | None = None,
    ) -> LineRequest:
        """Get the request, let `decide` change it (returning what to save, possibly with
        its workspace; nothing = no change), and save it all in one transaction."""
        lock_key = workspace_id or self.line_request(request_id).workspace_id

        def attempt() -> LineRequest:
            req = self.line_request(request_id, workspace_id)
            changed = decide(req)
            if changed:
                self.commit(*changed)
            return req

        return self.command(lock_key, attempt)

    def history(self, request_id: UUID) -> list[Any]:
        try:
            return list(self.events.get(request_id))
        except PersistenceError as e:
            raise store_unavailable(e) from e


def store_unavailable(error: Exception) -> ServiceBusy:
    return ServiceBusy(f"The event store is unavailable: {error}")
