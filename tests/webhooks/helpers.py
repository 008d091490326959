"""Helpers for the webhook tests."""

from __future__ import annotations

from api.bootstrap import Services
from domain.enums import Channel, Plan
from tests.conftest import Tenant, make_tenant
from tests.support.receiver import Receiver


def subscribe(services: Services, tenant: Tenant, receiver: Receiver) -> str:
    """Add the receiver as an endpoint of the tenant; the receiver learns the secret."""
    endpoint, secret = services.webhooks.add(tenant.workspace_id, receiver.url)
    receiver.secret = secret
    return endpoint.id


def drain(services: Services, rounds: int = 20) -> None:
    """Sender passes until one sends nothing (each pass is synchronous)."""
    for _ in range(rounds):
        if services.outbound.pass_once() == 0:
            return


def types_for(receiver: Receiver, request_id: str) -> list[str]:
    return [
        m.body["type"] for m in receiver.messages() if m.body["data"]["requestId"] == request_id
    ]


def roomy_tenant(services: Services, workspace_id: str) -> Tenant:
    """A growth workspace with room for many included phone lines."""
    tenant = make_tenant(services, workspace_id, Plan.GROWTH)
    services.workspaces.set_override(workspace_id, Channel.PHONE, 100, 100)
    return tenant
