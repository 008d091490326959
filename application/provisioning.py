"""Provisioning steps: ask the provisioner, record activation or failure, and fail a
request whose provisioning outlives its deadline."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.app import LinesApp
from application.ports import (
    Clock,
    Provisioner,
    ProvisioningOrder,
    ProvisioningOutcome,
    ProvisioningState,
)
from application.settlement import Settlement
from application.views import LineView, WorkKind
from domain import decisions
from domain.enums import LineState
from domain.line_request import LineRequest
from domain.workspace import Workspace

log = logging.getLogger(__name__)
DEFAULT_DEADLINE = 3600.0


@dataclass(frozen=True)
class Answered:
    """What recording a provider's answer did: the request as it is now, and whether the
    answer changed its lifecycle (False: a duplicate, or a late answer after it ended)."""

    view: LineView
    changed: bool


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
                line_type=req.line_type,
            )
        )
        self.answer(request_id, outcome)

    def answer(self, request_id: UUID, outcome: ProvisioningOutcome) -> Answered:
        """Record what the provider says (a callback, a poll, the sandbox). Only a request
        still in provisioning changes: a duplicate, or an "active" after "failed", changes
        nothing and is logged (after the deadline failed it, the answer is kept as late).
        Deciding inside the writer makes this safe against a callback and a poll answering
        at the same moment."""
        if outcome.state is ProvisioningState.PENDING:
            return Answered(self.app.view(request_id), False)
        return self._record(request_id, outcome, strict=False)

    def activate(
        self,
        request_id: UUID,
        phone: str | None,
        email: str | None,
        provider_ref: str,
        server_url: str | None = None,
    ) -> LineView:
        """An operator's activation (`tuco lines activate`): refused unless provisioning
        (after the deadline failed it: only kept as late)."""
        outcome = ProvisioningOutcome(
            ProvisioningState.ACTIVE, phone, email, provider_ref, server_url=server_url
        )
        return self._record(request_id, outcome, strict=True).view

    def fail(self, request_id: UUID, reason: str) -> LineView:
        """An operator's failure (`tuco lines fail`), refused unless provisioning; a paid
        add-on is then refunded (after the deadline failed it: only kept as late)."""
        outcome = ProvisioningOutcome(ProvisioningState.FAILED, reason=reason)
        return self._record(request_id, outcome, strict=True).view

    def _record(self, request_id: UUID, outcome: ProvisioningOutcome, strict: bool) -> Answered:
        status = outcome.state.value
        late, changed = [False], [False]

        def decide(req: LineRequest, ws: Workspace) -> list[Aggregate]:
            late[0] = req.timed_out  # decided again after a conflict: recomputed
            changed[0] = False
            if late[0]:
                return decisions.answer_late(req, status, outcome.provider_ref)
            if req.state is not LineState.PROVISIONING and not strict:
                return []
            changed[0] = True
            if outcome.state is ProvisioningState.ACTIVE:
                req.activate(
                    phone=outcome.phone,
                    email=outcome.email,
                    provider_ref=outcome.provider_ref or "",
                    server_url=outcome.server_url,
                )
                return [req]
            return decisions.fail(req, ws, outcome.reason or "provisioning failed")

        view = self.app.change_request(request_id, decide)
        if late[0]:
            log.warning(
                "line request %s: the provisioner answered %r (ref %r) after the deadline "
                "failed it; nothing changes", request_id, status, outcome.provider_ref,
            )  # fmt: skip
        elif not changed[0]:
            log.info(
                "provisioning answer %r for %s changes nothing: it is %s",
                status, request_id, view.state.value,
            )  # fmt: skip
        if not changed[0]:
            return Answered(view, False)
        return Answered(self._refund_owed(view), True)

    def _refund_owed(self, view: LineView) -> LineView:
        if WorkKind.REFUND in view.owed:
            return self.settlement.try_step(self.settlement.refund, view.id) or view
        return view
