"""Provisioning steps: ask the provisioner, record activation or failure."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from application.app import LinesApp
from application.ports import Provisioner, ProvisioningOrder, ProvisioningState
from application.settlement import Settlement
from application.views import LineView, WorkKind
from domain import decisions
from domain.enums import LineState
from domain.line_request import LineRequest
from domain.workspace import Workspace


class Provisioning:
    """Moves requests in `provisioning` to `active` or `failed`."""

    def __init__(self, app: LinesApp, provisioner: Provisioner, settlement: Settlement) -> None:
        self.app = app
        self.provisioner = provisioner
        self.settlement = settlement

    def advance(self, request_id: UUID) -> None:
        """Ask the provisioner about one request in provisioning and record its answer."""
        req = self.app.line_request(request_id)
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
        def decide(req: LineRequest, ws: Workspace) -> list[Aggregate]:
            req.activate(phone=phone, email=email, provider_ref=provider_ref, server_url=server_url)
            return [req]

        return self.app.change_request(request_id, decide)

    def fail(self, request_id: UUID, reason: str) -> LineView:
        """Record the failure and free the slot; a paid add-on is then refunded."""
        view = self.app.change_request(request_id, lambda req, ws: decisions.fail(req, ws, reason))
        if WorkKind.REFUND in view.owed:
            return self.settlement.try_step(self.settlement.refund, request_id) or view
        return view
