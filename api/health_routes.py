"""`GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: every
registered check passes, else 503 naming what is wrong). `GET /health` stays as before."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.auth import Access
from api.bootstrap import Services
from api.operations import Operation
from api.responses import JSON
from api.schemas import ErrorDetail, ReadyAnswer, ReadyCheck, StatusAnswer


async def healthz(request: Request) -> Response:
    return JSON(StatusAnswer(status="ok"))


async def readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    checks = await run_in_threadpool(services.readiness.run)
    shown = {name: ReadyCheck(ok=c.ok, detail=c.detail) for name, c in checks.items()}
    failing = [f"{name}: {c.detail}" for name, c in checks.items() if not c.ok]
    if not failing:
        return JSON(ReadyAnswer(status="ready", checks=shown))
    error = ErrorDetail(code="not_ready", message="; ".join(failing))
    body = ReadyAnswer(status="not_ready", checks=shown, error=error)
    return JSON(body, status_code=503, headers={"Retry-After": "1"})


OPS = "operations"
READY_EXAMPLE = {
    "status": "ready",
    "checks": {
        "database": {"ok": True, "detail": "postgresql reachable"},
        "projections": {"ok": True, "detail": "applied up to position 1234 of 1234"},
        "worker": {"ok": True, "detail": "running"},
    },
}

operations = [
    Operation(
        "GET", "/healthz", healthz, "healthz", "Liveness: the process answers", OPS,
        Access.PUBLIC, StatusAnswer, answer_example={"status": "ok"},
    ),
    Operation(
        "GET", "/readyz", readyz, "readyz", "Readiness: every check passes", OPS,
        Access.PUBLIC, ReadyAnswer, answer_example=READY_EXAMPLE,
        description="Ready when the database answers, this process's projections are not "
        "stalled (nor, as it starts, still more than 10,000 events behind the log: `catching "
        "up`), and (where the worker runs) its thread is alive and has begun a pass or a step "
        "within the last 300 s. Otherwise 503 with `Retry-After: 1`, `status: not_ready`, "
        "every check, and an `error` naming the failing ones.",
        other_answers={503: ("Not ready: the checks, and an error naming the failing ones",
                             ReadyAnswer)},
    ),
]  # fmt: skip
