"""The event-sourced application: the event store, the group-committing writer, and the
process's aggregates in memory."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import JSONTranscoder, PersistenceError, Transcoder

from application.aggregates import Aggregates, from_store
from application.errors import store_unavailable
from application.event_log import log_recorded
from application.ports import LogTail
from application.session import Lookups, Session
from application.transcoder import OrjsonTranscoder
from application.transcodings import register_domain_transcodings
from application.views import CommittedBatch, LineView, view_of
from application.writer import Command, Writer
from domain.errors import NotFound
from domain.line_request import LineRequest
from domain.workspace import Workspace

T = TypeVar("T")
log = logging.getLogger(__name__)
Decide = Callable[[LineRequest, Workspace], list[Aggregate]]


class LinesApp(Lookups, Application[UUID]):
    """The event store of line requests and workspaces. Commands go through `writer`
    (group commit); reads outside it load from the store."""

    name = "TucoLines"
    snapshotting_intervals = {Workspace: 100}  # noqa: RUF012 (library API)

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.on_commit: list[Callable[[CommittedBatch], None]] = []
        self.aggregates: Aggregates | None = None
        self._writer: Writer | None = None

    def attach(
        self,
        tail: LogTail,
        exclusive: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
        cache_size: int = 20_000,
    ) -> None:
        """Start keeping aggregates in memory (at most `cache_size` aggregates and as many
        views), fresh against `tail`, and writing through one writer that holds `exclusive`
        around each decide-and-save (the factory calls it)."""
        self.aggregates = Aggregates(self, tail, cache_size)
        self._writer = Writer(self.aggregates, self._save_batch, self._committed, exclusive)

    @property
    def writer(self) -> Writer:
        if self._writer is None:
            raise RuntimeError("LinesApp.attach() was not called")
        return self._writer

    def construct_transcoder(self) -> Transcoder:
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def _save_batch(self, aggregates: list[Aggregate]) -> CommittedBatch | None:
        recordings = self.save(*aggregates)
        if not recordings:
            return None
        log_recorded(recordings, aggregates)
        ids = [r.notification.id for r in recordings]
        requested_at = {
            r.domain_event.originator_id: r.notification.id
            for r in recordings
            if r.domain_event.originator_version == 1
        }
        batch = CommittedBatch(
            first=min(ids),
            last=max(ids),
            count=len(ids),
            views=tuple(
                (view_of(a), requested_at.get(a.id))
                for a in aggregates
                if isinstance(a, LineRequest)
            ),
            complete=all(isinstance(a, (LineRequest, Workspace)) for a in aggregates),
        )
        if self.aggregates is not None:
            self.aggregates.wrote(batch)
        return batch

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot an aggregate whose saved events crossed its interval, from the state in
        memory (the library would reload it from the store, for every crossing)."""
        if self.snapshots is None:
            return
        crossed: set[UUID] = set()
        for e in processing_event.events:
            agg = processing_event.aggregates.get(e.originator_id)
            interval = self.snapshotting_intervals.get(type(agg)) if agg is not None else None
            if interval and e.originator_version % interval == 0:
                crossed.add(e.originator_id)
        for aggregate_id in crossed:
            agg = processing_event.aggregates[aggregate_id]
            snapshot_class = getattr(type(agg), "Snapshot", None) or Snapshot
            self.snapshots.put([snapshot_class.take(agg)])

    def _committed(self, batch: CommittedBatch) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "committed log positions %d-%d (%d events)", batch.first, batch.last, batch.count
            )
        for listener in self.on_commit:
            listener(batch)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        super().close()

    # --- commands --------------------------------------------------------------------

    def execute(self, command: Command[T]) -> T:
        return self.writer.execute(command)

    def change_request(
        self, request_id: UUID, decide: Decide, workspace_id: str | None = None
    ) -> LineView:
        """Get the request and its workspace, let `decide` change them (returning what to
        save; nothing = no change), and save it all in one group-committed transaction."""

        def command(s: Session) -> LineView:
            req = s.line_request(request_id, workspace_id)
            s.save(*decide(req, s.workspace(req.workspace_id)))
            return view_of(req)

        return self.execute(command)

    # --- reads from the store ----------------------------------------------------------

    def view(self, request_id: UUID, workspace_id: str | None = None) -> LineView:
        """The committed state of a request, read-your-writes on any process."""
        if self.aggregates is None:
            raise RuntimeError("LinesApp.attach() was not called")
        found = self.aggregates.view(request_id)
        if found is None or (workspace_id is not None and found.workspace_id != workspace_id):
            raise NotFound("line request", request_id)
        return found

    def _get(self, aggregate_id: UUID) -> Any:
        return from_store(self, aggregate_id)

    def history(
        self, request_id: UUID, after: int | None = None, limit: int | None = None
    ) -> list[Any]:
        """The events of one aggregate, oldest first: those with a version above `after`,
        at most `limit` of them (None: all)."""
        try:
            return list(self.events.get(request_id, gt=after, limit=limit))
        except PersistenceError as e:
            raise store_unavailable(e) from e
