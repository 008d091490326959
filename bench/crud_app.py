"""The plain-CRUD baseline: the product's line-request endpoints as plain SQL rows on the
same stack (Starlette + uvicorn with `tuco serve`'s settings, SQLAlchemy Core 2.x, the same
database), written like a typical synchronous CRUD app: each request's work (API key lookup,
validation, SQL) runs in one hop to Starlette's thread pool.

    CRUD_DATABASE_URL=sqlite:///x.db python -m bench.crud_app --port 8001 [--workers N]

`POST /api/line-requests` checks capacity (SPEC §2) in one transaction that locks the
workspace (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT … FOR UPDATE), counts held slots and
the awaiting_payment row, inserts the row and a history row, and answers 201 in the LINE
shape. Add-ons get an invoice id and link but no billing call (the benchmark's workspaces
have overrides that make every request included). No Idempotency-Key. Never in the product.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.crud_rules import (
    DAILY_NEW,
    DAILY_TOTAL,
    HOLDS,
    JSON,
    ApiError,
    allowance,
    answer,
    render,
    validate,
)
from bench.crud_schema import (
    api_keys,
    create_schema,
    engines,
    hash_key,
    line_request_history,
    line_requests,
    workspaces,
)


class Crud:
    def __init__(self, url: str, public_url: str) -> None:
        self.write, self.read = engines(url)
        self.lock_rows = self.write.dialect.name != "sqlite"  # SQLite: BEGIN IMMEDIATE
        self.public_url = public_url

    @staticmethod
    def workspace_for(conn: Connection, authorization: str) -> str:
        """The API key's workspace, looked up on every request (a revoked key stops at once)."""
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() == "bearer" and key.strip():
            q = select(api_keys.c.workspace_id).where(
                api_keys.c.key_hash == hash_key(key.strip()), api_keys.c.revoked_at.is_(None)
            )
            ws = conn.execute(q).scalar()
            if ws is not None:
                return str(ws)
        raise ApiError(401, "unauthorized", "A valid API key is required.")

    def create(self, authorization: str, body: bytes) -> dict[str, Any]:
        with self.read.connect() as conn:
            ws = self.workspace_for(conn, authorization)
        fields = validate(body)
        channel, now = fields["channel"], datetime.now(UTC)
        row = {
            "id": str(uuid.uuid4()),
            "workspace_id": ws,
            **fields,
            "request_source": "api",
            "line_type": "purchased",
            "stripe_invoice_id": None,
            "payment_link_url": None,
            "daily_new_conversations_limit": DAILY_NEW,
            "daily_total_messages_limit": DAILY_TOTAL,
            "usage_date": None,
            "usage_new_messages": 0,
            "usage_total_messages": 0,
            "health_status": None,
            "health_checked_at": None,
            "created_at": now,
            "updated_at": now,
        }
        lr = line_requests.c
        with self.write.begin() as conn:
            q = select(workspaces).where(workspaces.c.id == ws)
            w = conn.execute(q.with_for_update() if self.lock_rows else q).one_or_none()
            if w is None or not w.subscription_active:
                raise ApiError(402, "subscription_required", "No active subscription.")
            included, limit = allowance(w.plan, channel, w.overrides)
            if limit is not None and limit <= 0:
                raise ApiError(403, "channel_not_available", f"No {channel} lines on this plan.")
            pending = conn.execute(
                select(lr.id).where(lr.workspace_id == ws, lr.state == "awaiting_payment").limit(1)
            ).scalar()
            if pending is not None:
                raise ApiError(
                    409, "payment_pending", "A request awaits payment.", requestId=pending
                )
            held = conn.execute(
                select(func.count())
                .select_from(line_requests)
                .where(lr.workspace_id == ws, lr.channel == channel, lr.state.in_(HOLDS))
            ).scalar_one()
            if held < included:
                row.update(state="provisioning", payment_status="not_required")
            elif limit is None or held < limit:
                invoice = f"in_{uuid.uuid4().hex[:24]}"
                url = f"{self.public_url}/sandbox/invoices/{invoice}"
                row.update(state="awaiting_payment", payment_status="pending")
                row.update(stripe_invoice_id=invoice, payment_link_url=url)
            else:
                raise ApiError(403, "line_limit_reached", f"No more {channel} lines.")
            conn.execute(line_requests.insert(), row)
            detail = json.dumps({"event": "requested", "billing": row["payment_status"]})
            history = {"line_request_id": row["id"], "state": row["state"], "at": now}
            conn.execute(
                line_request_history.insert(),
                {**history, "payment_status": row["payment_status"], "detail": detail},
            )
        return answer(render(row))

    def get(self, authorization: str, request_id: str) -> dict[str, Any]:
        with self.read.connect() as conn:  # one connection for the whole request
            ws = self.workspace_for(conn, authorization)
            q = select(line_requests).where(
                line_requests.c.id == request_id, line_requests.c.workspace_id == ws
            )
            r = conn.execute(q).mappings().one_or_none()
        if r is None:
            raise ApiError(404, "not_found", "No such line request.")
        return answer(render(r))

    def by_user(self, authorization: str) -> dict[str, Any]:
        lr = line_requests.c
        with self.read.connect() as conn:
            ws = self.workspace_for(conn, authorization)
            q = select(line_requests).where(lr.workspace_id == ws)
            q = q.order_by(lr.created_at.desc(), lr.id.desc())
            return {"lines": [render(r) for r in conn.execute(q).mappings()]}


async def _serve(request: Request, status: int, work: Any) -> Response:
    crud: Crud = request.app.state.crud
    body = await request.body() if request.method == "POST" else b""
    auth = request.headers.get("authorization", "")

    def run() -> Any:
        return work(crud, auth, body)

    return JSON(await run_in_threadpool(run), status_code=status)


async def create(request: Request) -> Response:
    return await _serve(request, 201, lambda c, auth, body: c.create(auth, body))


async def get(request: Request) -> Response:
    rid = request.path_params["id"]
    return await _serve(request, 200, lambda c, auth, _: c.get(auth, rid))


async def by_user(request: Request) -> Response:
    return await _serve(request, 200, lambda c, auth, _: c.by_user(auth))


async def health(request: Request) -> Response:
    return JSON({"status": "ok"})


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSON({"error": exc.body}, status_code=exc.status)


def app_factory() -> Starlette:
    app = Starlette(
        routes=[
            Route("/api/line-requests", create, methods=["POST"]),
            Route("/api/line-requests/{id}", get, methods=["GET"]),
            Route("/api/lines/by-user", by_user, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ],
        exception_handlers={ApiError: api_error},
    )
    public_url = os.environ.get("TUCO_PUBLIC_URL", "http://127.0.0.1")
    app.state.crud = Crud(os.environ["CRUD_DATABASE_URL"], public_url)
    return app


def main() -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.crud_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    a = parser.parse_args()
    create_schema(os.environ["CRUD_DATABASE_URL"])  # once, before the workers start
    # The same call as `tuco serve` (api/cli.py: serve).
    uvicorn.run(
        "bench.crud_app:app_factory",
        factory=True,
        host=a.host,
        port=a.port,
        workers=a.workers,
        log_level=os.environ.get("TUCO_LOG_LEVEL", "info").lower(),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
