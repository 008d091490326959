"""The provisioner `TUCO_PROVISIONER` names, built for the factory (api/bootstrap.py)."""

from __future__ import annotations

from sqlalchemy import Engine

from adapters.config import Settings
from adapters.http_provisioner import HttpProvisioner
from adapters.manual_provisioner import ManualProvisioner
from adapters.provisioning_protocol import ProvisioningCallbacks
from adapters.sandbox_provisioner import SandboxProvisioner
from adapters.signing import Signer
from application.ports import Clock, Provisioner


def configured_provisioner(settings: Settings, engine: Engine, clock: Clock) -> Provisioner:
    """sandbox (the embedded default), manual, or http (SPEC §7)."""
    p = settings.provisioner
    if p.kind == "manual":
        return ManualProvisioner()
    if p.kind == "http" and p.url and p.secret:
        return HttpProvisioner(
            p.url, Signer(p.secret), settings.public_url, engine, clock,
            poll_seconds=p.poll_seconds, timeout=p.timeout,
        )  # fmt: skip
    return SandboxProvisioner(clock, settings.sandbox_provision_seconds, settings.public_url)


def configured_callbacks(
    settings: Settings, engine: Engine, clock: Clock
) -> ProvisioningCallbacks | None:
    """What verifies POST /internal/provisioning/{id}; None unless the provisioner is http."""
    p = settings.provisioner
    if p.kind != "http" or not p.secret:
        return None
    return ProvisioningCallbacks(engine, Signer(p.secret), clock)
