"""Deterministic ids: an idempotent request and a workspace are found by name."""

from __future__ import annotations

from uuid import UUID

from domain.ids import line_request_id, workspace_aggregate_id
from domain.workspace import Workspace
from tests.unit.builders import workspace


def test_same_workspace_and_idempotency_key_give_the_same_request_id() -> None:
    assert line_request_id("org_a", "key-1") == line_request_id("org_a", "key-1")


def test_request_id_is_a_uuid() -> None:
    assert isinstance(line_request_id("org_a", "key-1"), UUID)


def test_request_without_idempotency_key_gets_a_new_random_id_each_time() -> None:
    assert line_request_id("org_a", None) != line_request_id("org_a", None)


def test_same_idempotency_key_in_two_workspaces_gives_different_ids() -> None:
    assert line_request_id("org_a", "key-1") != line_request_id("org_b", "key-1")


def test_different_idempotency_keys_in_one_workspace_give_different_ids() -> None:
    assert line_request_id("org_a", "key-1") != line_request_id("org_a", "key-2")


def test_idempotency_key_cannot_collide_across_the_workspace_boundary() -> None:
    # "org_a:b" + "c" must not be the same request as "org_a" + "b:c".
    assert line_request_id("org_a:b", "c") != line_request_id("org_a", "b:c")


def test_workspace_aggregate_id_is_deterministic_and_per_workspace() -> None:
    assert workspace_aggregate_id("org_a") == workspace_aggregate_id("org_a")
    assert workspace_aggregate_id("org_a") != workspace_aggregate_id("org_b")


def test_workspace_aggregate_has_the_id_derived_from_its_name() -> None:
    assert workspace(workspace_id="org_a").id == workspace_aggregate_id("org_a")
    assert Workspace.create_id("org_a") == workspace_aggregate_id("org_a")


def test_workspace_and_request_ids_never_coincide() -> None:
    assert workspace_aggregate_id("org_a") != line_request_id("org_a", "org_a")
