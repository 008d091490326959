"""Operator commands on workspaces: create, plan, subscription, overrides."""

from __future__ import annotations

from collections.abc import Callable

from application.app import LinesApp
from domain.enums import Channel, Plan
from domain.errors import WorkspaceExists
from domain.workspace import Workspace


class Workspaces:
    def __init__(self, app: LinesApp) -> None:
        self.app = app

    def create(self, workspace_id: str, plan: Plan, name: str, active: bool) -> Workspace:
        def attempt() -> Workspace:
            if self.app.find_workspace(workspace_id) is not None:
                raise WorkspaceExists(workspace_id)
            ws = Workspace(
                workspace_id=workspace_id, name=name, plan=plan, subscription_active=active
            )
            self.app.commit(ws)
            return ws

        return self.app.command(workspace_id, attempt)

    def get(self, workspace_id: str) -> Workspace:
        return self.app.workspace(workspace_id)

    def set_plan(self, workspace_id: str, plan: Plan) -> Workspace:
        return self._change(workspace_id, lambda ws: ws.change_plan(plan))

    def set_subscription(self, workspace_id: str, active: bool) -> Workspace:
        return self._change(workspace_id, lambda ws: ws.set_subscription(active))

    def set_override(
        self, workspace_id: str, channel: Channel, included: int | None, max: int | None
    ) -> Workspace:
        return self._change(workspace_id, lambda ws: ws.set_override(channel, included, max))

    def _change(self, workspace_id: str, decide: Callable[[Workspace], None]) -> Workspace:
        def attempt() -> Workspace:
            ws = self.app.workspace(workspace_id)
            decide(ws)
            self.app.commit(ws)
            return ws

        return self.app.command(workspace_id, attempt)
