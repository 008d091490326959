"""Line health checks for the dashboard, and usage reported by the messaging side."""

from __future__ import annotations

import hmac
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import parsing
from api.auth import authenticate_dashboard, bearer_token
from api.bootstrap import Services
from api.errors import Unauthorized, ValidationFailed
from api.render import iso
from api.responses import JSON


async def check_availability(request: Request) -> Response:
    services: Services = request.app.state.services
    raw_id = request.query_params.get("id")

    def work() -> Any:
        caller = authenticate_dashboard(request, services.clerk)
        if not raw_id:
            raise ValidationFailed("The query parameter id is required.", param="id")
        return services.health.check(parsing.request_id(raw_id), caller.workspace_id)

    result = await run_in_threadpool(work)
    return JSON(
        {
            "success": True,
            "lineId": str(result.line_id),
            "status": result.status.value,
            "failures": result.failures,
            "checkedAt": iso(result.checked_at),
            "shouldNotify": result.should_notify,
            "notificationSent": result.notification_sent,
        }
    )


def _service_caller(request: Request, services: Services) -> None:
    expected = services.settings.internal_token
    token = bearer_token(request)
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("This endpoint takes the internal service token.")


async def report_usage(request: Request) -> Response:
    services: Services = request.app.state.services
    body = await request.body()

    def work() -> Any:
        _service_caller(request, services)
        batch_id, items = parsing.usage_batch(body)
        return services.usage.record(batch_id, items)

    duplicate, allowances = await run_in_threadpool(work)
    return JSON(
        {
            "duplicate": duplicate,
            "lines": [
                {
                    "lineId": str(a.line_id),
                    "date": a.date,
                    "newConversations": a.new_conversations,
                    "totalMessages": a.total_messages,
                    "dailyNewConversationsLimit": a.new_conversations_limit,
                    "dailyTotalMessagesLimit": a.total_messages_limit,
                    "withinLimits": a.within_limits,
                }
                for a in allowances
            ],
        }
    )


routes = [
    Route("/api/lines/check-availability", check_availability, methods=["GET"]),
    Route("/internal/usage", report_usage, methods=["POST"]),
]
