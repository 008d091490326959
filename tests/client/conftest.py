"""One real `tuco serve` (SQLite, sandbox billing and provisioning, worker on) for the
client's tests, with workspaces and keys made before it starts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from adapters.config import Settings
from api.bootstrap import build
from domain.enums import Channel, Plan
from tests.support.server import running_server

WORKSPACES = {
    "org_client": (Plan.GROWTH, True),
    "org_paging": (Plan.GROWTH, True),
    "org_addon": (Plan.GROWTH, True),
    "org_mini": (Plan.MINI, True),
    "org_lapsed": (Plan.GROWTH, False),
    "org_starter": (Plan.STARTER, True),
}


@dataclass
class Served:
    base_url: str
    keys: dict[str, str]


class Recording(httpx.HTTPTransport):
    """A real HTTP transport that keeps each request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return super().handle_request(request)


def prepare(database_url: str) -> dict[str, str]:
    services = build(Settings(database_url=database_url))
    try:
        keys = {}
        for name, (plan, active) in WORKSPACES.items():
            services.workspaces.create(name, plan, name, active)
            keys[name] = services.keys.create(name)
        for roomy in ("org_client", "org_paging"):
            services.workspaces.set_override(roomy, Channel.PHONE, 100, None)
        return keys
    finally:
        services.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    path: Path = tmp_path_factory.mktemp("client") / "tuco.db"
    url = f"sqlite:///{path}"
    keys = prepare(url)
    env = {"TUCO_SANDBOX_PROVISION_SECONDS": "0", "TUCO_WORKER_INTERVAL": "0.1"}
    with running_server(url, env=env) as base_url:
        yield Served(base_url, keys)
