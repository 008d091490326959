"""Operator commands on workspaces: create, plan, subscription, overrides."""

from __future__ import annotations

from collections.abc import Callable

from application.app import LinesApp
from application.session import Session
from domain import bounds, decisions
from domain.enums import Channel, Plan
from domain.errors import WorkspaceExists
from domain.workspace import Workspace

MAX_WORKSPACE_ID = 200  # the read model's column


class Workspaces:
    def __init__(self, app: LinesApp) -> None:
        self.app = app

    def create(self, workspace_id: str, plan: Plan, name: str, active: bool) -> Workspace:
        workspace_id = bounds.text("id", workspace_id, max_len=MAX_WORKSPACE_ID) or ""
        name = bounds.text("name", name, max_len=200) or workspace_id

        def command(s: Session) -> Workspace:
            if s.find_workspace(workspace_id) is not None:
                raise WorkspaceExists(workspace_id)
            ws = Workspace(
                workspace_id=workspace_id, name=name, plan=plan, subscription_active=active
            )
            s.save(ws)
            return ws

        return self.app.execute(command)

    def get(self, workspace_id: str) -> Workspace:
        return self.app.workspace(workspace_id)

    def set_plan(self, workspace_id: str, plan: Plan) -> Workspace:
        return self._change(workspace_id, lambda ws: ws.change_plan(plan))

    def set_subscription(self, workspace_id: str, active: bool) -> Workspace:
        return self._change(workspace_id, lambda ws: ws.set_subscription(active))

    def apply_subscription(
        self,
        workspace_id: str,
        subscription_id: str,
        created: int,
        plan: Plan | None,
        active: bool,
    ) -> bool:
        """Follow the provider's subscription (decisions.apply_subscription); False when
        the workspace was left as it is."""

        def command(s: Session) -> bool:
            ws = s.workspace(workspace_id)
            changed = decisions.apply_subscription(ws, subscription_id, created, plan, active)
            s.save(*changed)
            return ws.subscription_id == subscription_id

        return self.app.execute(command)

    def set_override(
        self, workspace_id: str, channel: Channel, included: int | None, max: int | None
    ) -> Workspace:
        return self._change(workspace_id, lambda ws: ws.set_override(channel, included, max))

    def _change(self, workspace_id: str, decide: Callable[[Workspace], None]) -> Workspace:
        def command(s: Session) -> Workspace:
            ws = s.workspace(workspace_id)
            decide(ws)
            s.save(ws)
            return ws

        return self.app.execute(command)
