"""Sandbox provisioning: a line becomes active a set time after provisioning starts."""

from __future__ import annotations

from datetime import timedelta

from application.ports import (
    Clock,
    Provisioner,
    ProvisioningOrder,
    ProvisioningOutcome,
    ProvisioningState,
)
from domain.enums import Channel


class SandboxProvisioner(Provisioner):
    """Stateless: whether a line is ready follows from when provisioning started, so any
    process can answer. Phone lines get the requested number or a 555 number, and every line
    a server URL on the sandbox line server."""

    def __init__(self, clock: Clock, delay_seconds: float, public_url: str = "") -> None:
        self.clock = clock
        self.delay = timedelta(seconds=max(0.0, delay_seconds))
        self.public_url = public_url

    def provision(self, order: ProvisioningOrder) -> ProvisioningOutcome:
        if self.clock.now() < order.started_at + self.delay:
            return ProvisioningOutcome(ProvisioningState.PENDING)
        phone = order.phone
        if order.channel is Channel.PHONE and phone is None:
            phone = f"+1202555{order.request_id.int % 10_000:04d}"
        return ProvisioningOutcome(
            ProvisioningState.ACTIVE,
            phone=phone,
            email=order.email,
            provider_ref=f"sandbox-{order.request_id.hex[:12]}",
            # The sandbox line server this service serves itself (api/sandbox_lines.py).
            server_url=f"{self.public_url}/sandbox/lines/{order.request_id}",
        )
