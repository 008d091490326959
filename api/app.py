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
from starlette.types import ASGIApp

from adapters.config import Settings
from adapters.logs import configure_logging, secrets_of
from api import endpoints, metrics, openapi, operations
from api.body_limits import BodyLimits
from api.bootstrap import Services, build
from api.errors import exception_handlers
from api.limits import Limits, LimitSettings
from api.observe import RequestLog
from api.operations import Operation
from api.version import service_version
from application.errors import ServiceBusy
from application.readiness import Check
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

    # Longer than any one step may take (a billing or provisioning call with its timeouts
    # and retries) and than a pass of sweeps: past it, the worker is alive but stuck.
    hung_after = 300.0

    def check(self) -> Check:
        """/readyz: the worker thread is alive and moving (and how often its watchdog
        restarted it)."""
        sup = self.supervised
        restarted = f"; restarted {sup.restarts} time(s)" if sup.restarts else ""
        stuck = self.services.worker.stuck_for()
        # A configured pause between passes longer than that is not a hang either.
        if sup.alive and stuck >= max(self.hung_after, 3 * self.services.settings.worker_interval):
            return Check(False, f"the worker has not moved for {stuck:.0f} s{restarted}")
        if sup.alive:
            return Check(True, f"running{restarted}")
        why = f" (last error: {sup.last_error})" if sup.last_error else ""
        return Check(False, f"the worker thread has stopped{why}{restarted}")

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


class TucoApp(Starlette):
    """Starlette, with the request log outside its error middleware (see api.observe)."""

    def build_middleware_stack(self) -> ASGIApp:
        api_metrics: metrics.ApiMetrics = self.state.metrics
        return RequestLog(super().build_middleware_stack(), api_metrics.observe)


def log_start(services: Services, run_worker: bool) -> None:
    """The start-up line: database (password hidden), billing, provisioner, worker."""
    s = services
    log.info(
        "tuco started",
        extra={
            "version": service_version(),
            "database": s.database.url.render_as_string(hide_password=True),
            "billing": s.settings.billing,
            "provisioner": type(s.provisioning.provisioner).__name__,
            "worker": "on" if run_worker else "off",
            "pid": os.getpid(),
        },
    )


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
        sender = run_worker and svc.settings.webhook_sender
        if worker:
            worker.start()
            svc.readiness.register("worker", worker.check)
        else:
            svc.readiness.register("worker", lambda: Check(True, "not run in this process"))
        app.state.worker = worker
        log_start(svc, run_worker)
        if sender:
            svc.outbound.start(svc.settings.webhook_interval)  # outbound webhooks
        try:
            yield
        finally:
            if sender:
                svc.outbound.close()
            if worker:
                worker.close()
            svc.read_model.follower.close()
            if own_services:
                svc.close()

    table = endpoints.operations()
    app = TucoApp(
        routes=operations.routes(configured(table, svc)),
        # CORS outermost: preflights are not rate-limited, and a 429 is readable cross-origin;
        # then body sizes and media types, before any handler reads a body.
        middleware=[*cors(services.settings.cors_origins), _limits(svc), Middleware(BodyLimits)],
        exception_handlers=exception_handlers(),  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.openapi = openapi.encoded(table)
    app.state.metrics = metrics.ApiMetrics(services, run_worker)
    return app


def _limits(services: Services) -> Middleware:
    s = services.settings
    limits = LimitSettings(s.rate_limit, s.rate_burst, s.body_timeout, s.max_open_batches)
    return Middleware(Limits, settings=limits, known_key=services.keys.known)


def configured(table: list[Operation], services: Services) -> list[Operation]:
    """The operations this configuration serves (the document lists them all): the
    sandbox's pages only while the sandbox is in use, the provisioning callback only with
    the http provisioner, and no POST /internal/usage with TUCO_USAGE=off."""
    settings = services.settings
    off: list[str] = []
    if settings.billing != "sandbox":
        off.append("/sandbox/invoices/")
    if settings.provisioner.kind != "sandbox":
        off.append("/sandbox/lines/")
    if services.provisioning_callbacks is None:
        off.append("/internal/provisioning/")
    if not settings.usage_enabled:
        off.append("/internal/usage")
    return [op for op in table if not op.path.startswith(tuple(off))]


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
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format, secrets_of(settings))
    services = build(settings)
    app = create_app(
        services, run_worker=os.environ.get("TUCO_RUN_WORKER", "1") != "0", own_services=True
    )
    tune_gc()  # a server process only: tests build many apps in one process
    return app
