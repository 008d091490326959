"""Every HTTP operation of the service, in the order the document lists them. A module
with endpoints adds its `operations` here (see api/operations.py)."""

from __future__ import annotations

from api import (
    docs_routes,
    health_routes,
    lines_routes,
    metrics,
    provisioning_routes,
    routes,
    sandbox_lines_routes,
    sandbox_routes,
    webhook_endpoint_routes,
    webhook_routes,
)
from api.operations import Operation


def operations() -> list[Operation]:
    return [
        *routes.operations,
        *lines_routes.operations,
        *provisioning_routes.operations,
        *webhook_routes.operations,
        *webhook_endpoint_routes.operations,
        *sandbox_routes.operations,
        *sandbox_lines_routes.operations,
        *docs_routes.operations,
        *health_routes.operations,
        *metrics.operations,
    ]
