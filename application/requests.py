"""Line-request commands and queries of the API: request, payment link, cancel, read."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from uuid import UUID

import msgspec

from application.app import LinesApp
from application.commands import LineDefaults, Pricing
from application.listing import LinePage, LineQuery
from application.ports import Clock
from application.session import Session
from application.settlement import Settlement
from application.views import LineView, ReadModel, view_of
from application.writer import Command
from domain import decisions
from domain.decisions import LineDetails
from domain.enums import LineState
from domain.ids import line_request_id


class LineRequests:
    """What a workspace can do with its line requests."""

    def __init__(
        self,
        app: LinesApp,
        read_model: ReadModel,
        settlement: Settlement,
        clock: Clock,
        pricing: Pricing,
        defaults: LineDefaults,
    ) -> None:
        self.app = app
        self.read_model = read_model
        self.settlement = settlement
        self.clock = clock
        self.pricing = pricing
        self.defaults = defaults

    def submit_request(self, cmd: LineDetails) -> Future[tuple[LineView, bool]]:
        """Queue the decision (plan, capacity, idempotency) for the next group commit; the
        future holds the request as committed, and whether this call created it."""
        return self.app.writer.submit(self._request_command(cmd))

    def submit_request_async(self, cmd: LineDetails) -> asyncio.Future[tuple[LineView, bool]]:
        """As `submit_request`, awaited in the caller's event loop."""
        return self.app.writer.submit_async(self._request_command(cmd))

    def _request_command(self, cmd: LineDetails) -> Command[tuple[LineView, bool]]:
        request_id = line_request_id(cmd.workspace_id, cmd.idempotency_key)
        terms = decisions.Terms(
            price_amount=self.pricing.amount(cmd.channel),
            currency=self.pricing.currency,
            daily_new_conversations_limit=self.defaults.daily_new_conversations_limit,
            daily_total_messages_limit=self.defaults.daily_total_messages_limit,
        )
        now = self.clock.now()

        def command(s: Session) -> tuple[LineView, bool]:
            existing = s.find_request(request_id) if cmd.idempotency_key else None
            ws = s.find_workspace(cmd.workspace_id) if existing is None else None
            req, changed = decisions.request_line(ws, existing, request_id, cmd, terms, now)
            s.save(*changed)
            return view_of(req), bool(changed)

        return command

    def issue_invoice(self, view: LineView) -> LineView:
        """For an add-on: create its invoice now, so the answer carries the link (the worker
        retries when the provider cannot be reached)."""
        if not view.needs_invoice:
            return view
        return self.settlement.try_issue_invoice(view.id) or view

    def request_line(self, cmd: LineDetails) -> LineView:
        """Record the request (an included one starts provisioning in the same commit),
        then create an add-on's invoice inline."""
        view, created = self.submit_request(cmd).result()
        return self.answer(self.issue_invoice(view), created)

    def answer(self, view: LineView, created: bool) -> LineView:
        """The POST's answer: a request this call created has no usage yet."""
        if created:
            return msgspec.structs.replace(view, usage_date=self.clock.now().date())
        return self.with_usage(view)

    def payment_link(self, workspace_id: str, request_id: UUID) -> LineView:
        """The open invoice's link; reconciles a payment the provider already took."""
        view = self.app.view(request_id, workspace_id)
        decisions.check_payment_link_state(view.state)
        if view.state is LineState.AWAITING_PAYMENT:
            if view.needs_invoice:
                self.settlement.try_issue_invoice(request_id)
            else:
                self.settlement.try_reconcile(request_id)
        return self.get(workspace_id, request_id)

    def cancel(self, workspace_id: str, request_id: UUID, by: str) -> LineView:
        self.settlement.cancel(workspace_id, request_id, by)
        return self.get(workspace_id, request_id)

    def get(self, workspace_id: str, request_id: UUID) -> LineView:
        """The committed state (any process's latest write), with today's usage."""
        return self.with_usage(self.app.view(request_id, workspace_id))

    def with_usage(self, view: LineView) -> LineView:
        day = self.clock.now().date()
        new, total = self.read_model.usage(view.id, day)
        return msgspec.structs.replace(
            view, usage_date=day, usage_new_conversations=new, usage_total_messages=total
        )

    def list_lines_now(self, workspace_id: str) -> list[LineView] | None:
        """The list if the read model already holds every write made so far, else None
        (then `list_lines` waits for it)."""
        if not self.read_model.caught_up():
            return None
        return self.read_model.list_lines(workspace_id)

    def list_lines(self, workspace_id: str) -> list[LineView]:
        """Newest first, from the read model once it holds every write made so far."""
        self.read_model.wait_for()
        return self.read_model.list_lines(workspace_id)

    def page_now(self, workspace_id: str, query: LineQuery) -> LinePage | None:
        """As `list_lines_now`, one page (see `application.listing`)."""
        if not self.read_model.caught_up():
            return None
        return self.read_model.page_lines(workspace_id, query)

    def page(self, workspace_id: str, query: LineQuery) -> LinePage:
        """One page, newest first, once the read model holds every write made so far."""
        self.read_model.wait_for()
        return self.read_model.page_lines(workspace_id, query)
