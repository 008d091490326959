"""Deterministic aggregate ids, so a workspace or an idempotent request is found by name."""

from __future__ import annotations

from typing import NewType
from uuid import UUID, uuid4, uuid5

WorkspaceId = NewType("WorkspaceId", str)
LineRequestId = NewType("LineRequestId", UUID)

_NAMESPACE = UUID("6f1c1f9e-3a53-4c0e-9f2b-7d5a3b0c2e11")


def workspace_aggregate_id(workspace_id: str) -> UUID:
    return uuid5(_NAMESPACE, f"workspace:{workspace_id}")


def line_request_id(workspace_id: str, idempotency_key: str | None) -> LineRequestId:
    """A new random id, or with an idempotency key the same id every time, so a replay
    collides with the first request instead of creating a second one."""
    if idempotency_key is None:
        return LineRequestId(uuid4())
    # Inside the workspace's own namespace: no (workspace, key) pair can spell another's.
    namespace = workspace_aggregate_id(workspace_id)
    return LineRequestId(uuid5(namespace, f"line-request:{idempotency_key}"))
