"""Provisioning steps: ask the provisioner, record activation or failure, and fail a
request whose provisioning outlives its deadline."""

from __future__ import annotations

import logging
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.app import Decide, LinesApp
from application.ports import Clock, Provisioner, ProvisioningOrder, ProvisioningState
from application.settlement import Settlement
from application.views import LineView, WorkKind
from domain import decisions
from domain.enums import LineState
from domain.line_request import LineRequest
from domain.workspace import Workspace

log = logging.getLogger(__name__)
DEFAULT_DEADLINE = 3600.0


class Provisioning:
    """Moves requests in `provisioning` to `active` or `failed`. `deadline` (seconds, 0 =
    none) applies whatever the provisioner: sandbox, manual or http."""

    def __init__(
        self,
        app: LinesApp,
        provisioner: Provisioner,
        settlement: Settlement,
        clock: Clock,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        self.app = app
        self.provisioner = provisioner
        self.settlement = settlement
        self.clock = clock
        self.deadline = deadline

    def expire(self, request_id: UUID, req: LineRequest | None = None) -> bool:
        """Fail the request with `provisioning_timeout` if it has been provisioning for
        longer than the deadline (a paid add-on is then refunded); True if it did."""
        now = self.clock.now()
        if not (req or self.app.line_request(request_id)).overdue(now, self.deadline):
            return False
        view = self.app.change_request(
            request_id, lambda req, ws: decisions.expire(req, ws, now, self.deadline)
        )
        if view.state is not LineState.FAILED:
            return False
        log.warning(
            "line request %s failed: still provisioning after the %.0f s deadline",
            request_id, self.deadline,
        )  # fmt: skip
        self._refund_owed(view)
        return True

    def advance(self, request_id: UUID) -> None:
        """Ask the provisioner about one request in provisioning and record its answer."""
        req = self.app.line_request(request_id)
        if self.expire(request_id, req):
            return
        if req.state is not LineState.PROVISIONING or req.provisioning_started_at is None:
            return
        outcome = self.provisioner.provision(
            ProvisioningOrder(
                request_id=req.id,
                workspace_id=req.workspace_id,
                channel=req.channel,
                first_name=req.first_name,
                last_name=req.last_name,
                email=req.email,
                phone=req.phone,
                started_at=req.provisioning_started_at,
            )
        )
        if outcome.state is ProvisioningState.ACTIVE:
            self.activate(
                request_id,
                outcome.phone,
                outcome.email,
                outcome.provider_ref or "",
                outcome.server_url,
            )
        elif outcome.state is ProvisioningState.FAILED:
            self.fail(request_id, outcome.reason or "provisioning failed")

    def activate(
        self,
        request_id: UUID,
        phone: str | None,
        email: str | None,
        provider_ref: str,
        server_url: str | None = None,
    ) -> LineView:
        """Record the line as set up (after the deadline failed it: only kept as late)."""

        def on_time(req: LineRequest, ws: Workspace) -> list[Aggregate]:
            req.activate(phone=phone, email=email, provider_ref=provider_ref, server_url=server_url)
            return [req]

        return self._answer(request_id, "active", provider_ref, on_time)

    def fail(self, request_id: UUID, reason: str) -> LineView:
        """Record the failure and free the slot; a paid add-on is then refunded (after the
        deadline failed the request: only kept as late)."""
        view = self._answer(
            request_id, "failed", None, lambda req, ws: decisions.fail(req, ws, reason)
        )
        return self._refund_owed(view)

    def _answer(
        self, request_id: UUID, status: str, provider_ref: str | None, on_time: Decide
    ) -> LineView:
        late = False

        def decide(req: LineRequest, ws: Workspace) -> list[Aggregate]:
            nonlocal late
            late = req.timed_out
            if late:
                return decisions.answer_late(req, status, provider_ref)
            return on_time(req, ws)

        view = self.app.change_request(request_id, decide)
        if late:
            log.warning(
                "line request %s: the provisioner answered %r (ref %r) after the deadline "
                "failed it; nothing changes", request_id, status, provider_ref,
            )  # fmt: skip
        return view

    def _refund_owed(self, view: LineView) -> LineView:
        if WorkKind.REFUND in view.owed:
            return self.settlement.try_step(self.settlement.refund, view.id) or view
        return view
