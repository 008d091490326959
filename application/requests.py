"""Line-request commands and queries of the API: request, payment link, cancel, read."""

from __future__ import annotations

from uuid import UUID

from application.app import LinesApp
from application.commands import LineDefaults, Pricing, RequestLine
from application.ports import Clock
from application.settlement import Settlement
from application.views import LineView, ReadModel
from domain.enums import Billing, LineState
from domain.errors import IdempotencyConflict, InvalidTransition, NotFound, SubscriptionRequired
from domain.ids import line_request_id
from domain.line_request import LineRequest


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

    def request_line(self, cmd: RequestLine) -> LineView:
        """Check the plan and capacity, record the request (and, when included, the start
        of provisioning) together with the workspace, then create its invoice inline."""
        request_id = line_request_id(cmd.workspace_id, cmd.idempotency_key)
        fingerprint = cmd.fingerprint()

        def attempt() -> LineRequest:
            existing = self.app.find_request(request_id) if cmd.idempotency_key else None
            if existing is not None:
                same_workspace = existing.workspace_id == cmd.workspace_id
                if not same_workspace or existing.fingerprint != fingerprint:
                    raise IdempotencyConflict(cmd.idempotency_key or "")
                return existing
            ws = self.app.find_workspace(cmd.workspace_id)
            if ws is None:
                raise SubscriptionRequired(cmd.workspace_id)
            billing = ws.admit(request_id, cmd.channel)
            addon = billing is Billing.ADDON
            req = LineRequest(
                id=request_id,
                workspace_id=cmd.workspace_id,
                channel=cmd.channel,
                line_type=cmd.line_type,
                first_name=cmd.first_name,
                last_name=cmd.last_name,
                email=cmd.email,
                phone=cmd.phone,
                billing=billing,
                price_amount=self.pricing.amount(cmd.channel) if addon else None,
                currency=self.pricing.currency if addon else None,
                source=cmd.source,
                idempotency_key=cmd.idempotency_key,
                fingerprint=fingerprint,
                daily_new_conversations_limit=self.defaults.daily_new_conversations_limit,
                daily_total_messages_limit=self.defaults.daily_total_messages_limit,
            )
            if not addon:
                req.start_provisioning(self.clock.now())
            self.app.commit(ws, req)
            return req

        req = self.app.command(cmd.workspace_id, attempt)
        if req.needs_invoice:
            self.settlement.try_issue_invoice(req.id)
        return self.get(cmd.workspace_id, req.id)

    def payment_link(self, workspace_id: str, request_id: UUID) -> LineView:
        """The open invoice's link; reconciles a payment the provider already took."""
        req = self.app.line_request(request_id, workspace_id)
        if req.state in (LineState.CANCELED, LineState.FAILED):
            raise InvalidTransition("recover the payment link of", req.state_name)
        if req.state is LineState.AWAITING_PAYMENT:
            if req.needs_invoice:
                self.settlement.try_issue_invoice(req.id)
            else:
                self.settlement.try_reconcile(req.id)
        return self.get(workspace_id, request_id)

    def cancel(self, workspace_id: str, request_id: UUID, by: str) -> LineView:
        self.settlement.cancel(workspace_id, request_id, by)
        return self.get(workspace_id, request_id)

    def get(self, workspace_id: str, request_id: UUID) -> LineView:
        view = self.read_model.get_line(workspace_id, request_id)
        if view is None:
            if self.app.find_request(request_id) is None:
                raise NotFound("line request", request_id)
            # Recorded but not yet projected (its writer died before catching up).
            self.read_model.catch_up()
            view = self.read_model.get_line(workspace_id, request_id)
            if view is None:
                raise NotFound("line request", request_id)
        return view

    def list_lines(self, workspace_id: str) -> list[LineView]:
        return self.read_model.list_lines(workspace_id)
