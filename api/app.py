"""The Starlette application and its lifespan (the background worker thread)."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import threading
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from api import endpoints, openapi, operations
from api.bootstrap import Services, build
from api.errors import exception_handlers
from api.limits import Limits, LimitSettings
from application.errors import ServiceBusy
from application.supervisor import Supervised

log = logging.getLogger(__name__)


class BackgroundWorker:
    """Runs the worker in a daemon thread while this process holds the worker lease; a
    watchdog restarts the thread if it dies (`services.worker_supervisor.restarts`)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.supervised = Supervised("tuco-worker", self._run)
        services.worker_supervisor = self.supervised

    def _run(self, stop: threading.Event) -> None:
        s = self.services
        s.worker.run_forever(stop, s.settings.worker_interval, s.lease.acquire)

    def start(self) -> None:
        self.supervised.start()

    def close(self) -> None:
        self.supervised.stop.set()
        self.services.worker.wake()
        self.supervised.close(timeout=10)
        with contextlib.suppress(ServiceBusy):  # best effort: the lease expires anyway
            self.services.lease.release()


def tune_gc() -> None:
    """The server keeps many long-lived objects (aggregates and views in memory). With
    CPython's default thresholds the full collections that walk all of them came every few
    seconds under load and took ~100 ms each, which was most of the p99 of a POST. Fewer,
    larger young collections keep garbage bounded; what exists at start-up is frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def create_app(
    services: Services | None = None, *, run_worker: bool = True, own_services: bool = False
) -> Starlette:
    """The HTTP API over `services` (built from the environment when not given)."""
    if services is None:
        services = build()
        own_services = True
    svc = services

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc.read_model.follower.start()
        worker = BackgroundWorker(svc) if run_worker else None
        if worker:
            worker.start()
        try:
            yield
        finally:
            if worker:
                worker.close()
            svc.read_model.follower.close()
            if own_services:
                svc.close()

    table = endpoints.operations()
    app = Starlette(
        routes=operations.routes(table),
        # CORS outermost: preflights are not rate-limited, and a 429 is readable cross-origin.
        middleware=[*cors(services.settings.cors_origins), _limits(svc)],
        exception_handlers=exception_handlers(),  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.openapi = openapi.encoded(table)
    return app


def _limits(services: Services) -> Middleware:
    s = services.settings
    limits = LimitSettings(s.rate_limit, s.rate_burst, s.body_timeout, s.max_open_batches)
    return Middleware(Limits, settings=limits, known_key=services.keys.known)


# What a browser on a dashboard origin may send and read cross-origin.
CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"]
CORS_EXPOSED = ["Allow", "Retry-After", "X-Request-Id"]


def cors(origins: tuple[str, ...]) -> list[Middleware]:
    """CORS with preflight for the configured origins (TUCO_CORS_ORIGINS); none: off."""
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            max_age=600,
        )
    ]


def app_factory() -> Starlette:
    """For `uvicorn --factory api.app:app_factory` (each server process builds its own)."""
    app = create_app(run_worker=os.environ.get("TUCO_RUN_WORKER", "1") != "0")
    tune_gc()  # a server process only: tests build many apps in one process
    return app
