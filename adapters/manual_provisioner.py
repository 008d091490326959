"""Manual provisioning: people set lines up by hand and answer with `tuco lines`."""

from __future__ import annotations

from application.ports import (
    Provisioner,
    ProvisioningOrder,
    ProvisioningOutcome,
    ProvisioningState,
)


class ManualProvisioner(Provisioner):
    """A line waits in `provisioning` until an operator runs `tuco lines activate` or
    `tuco lines fail` (`tuco lines pending` lists what waits); the provisioning deadline
    still applies."""

    def provision(self, order: ProvisioningOrder) -> ProvisioningOutcome:
        return ProvisioningOutcome(ProvisioningState.PENDING)
