"""Line health checks for the dashboard, and usage reported by the messaging side."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from msgspec import Meta, Struct
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api import examples, parsing
from api.auth import Access, authenticate_dashboard, authenticate_service
from api.bootstrap import Services
from api.operations import Operation
from api.responses import JSON
from api.schemas import Allowance, AvailabilityAnswer, UsageAnswer, UsageBatchBody


class AvailabilityQuery(Struct, kw_only=True):
    id: Annotated[str, Meta(min_length=1, description="The line's `_id`.")]


async def check_availability(request: Request) -> Response:
    """Through the health gate: one probe per line at a time, a recent result within the
    cooldown, a rate limit per workspace, probes on their own pool (`HealthGate`)."""
    services: Services = request.app.state.services
    caller = await run_in_threadpool(authenticate_dashboard, request, services.clerk)
    q = parsing.query(request.query_params, AvailabilityQuery)
    request_id = parsing.request_id(q.id)
    result = await asyncio.wrap_future(services.health_gate.submit(request_id, caller.workspace_id))
    return JSON(
        AvailabilityAnswer(
            success=True,
            line_id=str(result.line_id),
            status=result.status,
            failures=list(result.failures),
            checked_at=result.checked_at,
            should_notify=result.should_notify,
            notification_sent=result.notification_sent,
        )
    )


async def report_usage(request: Request) -> Response:
    services: Services = request.app.state.services
    authenticate_service(request, services.settings.internal_token)  # before any body
    body = await request.body()

    def work() -> Any:
        batch_id, items = parsing.usage_batch(body)
        return services.usage.record(batch_id, items)

    duplicate, allowances = await run_in_threadpool(work)
    lines = [
        Allowance(
            line_id=str(a.line_id),
            date=date.fromisoformat(a.date),
            new_messages=a.new_conversations,
            total_messages=a.total_messages,
            daily_new_conversations_limit=a.new_conversations_limit,
            daily_total_messages_limit=a.total_messages_limit,
            within_limits=a.within_limits,
        )
        for a in allowances
    ]
    return JSON(UsageAnswer(duplicate=duplicate, lines=lines))


operations = [
    Operation(
        "GET", "/api/lines/check-availability", check_availability, "checkAvailability",
        "Health-check a line now", "lines", Access.CLERK, AvailabilityAnswer,
        query=AvailabilityQuery,
        errors={400: ("line_not_checkable",), 404: ("not_found",)},
        description="Pings the line's server (`GET {url}/health`) and, for phone lines, asks "
        "iMessage availability; records the result. `shouldNotify` is true when the status "
        "changed; then the notifier is called and `notificationSent` says if it succeeded.",
        answer_example=examples.AVAILABILITY_ANSWER,
    ),
    Operation(
        "POST", "/internal/usage", report_usage, "reportUsage",
        "Report message usage (messaging side)", "internal", Access.INTERNAL, UsageAnswer,
        body=UsageBatchBody, errors={404: ("not_found",)},
        description="Counts a batch once by `batchId` (a repeat answers `duplicate: true`) "
        "and answers each line's counters for the day against its limits. `newMessages` "
        "counts new conversations, as in the LINE object's `usage`.",
        body_example=examples.USAGE_BODY, answer_example=examples.USAGE_ANSWER,
    ),
]  # fmt: skip
