"""Fixtures for outbound webhooks: services with a short retry policy and a real receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from adapters.config import Settings
from api.app import create_app
from api.bootstrap import Services
from tests.support.receiver import Receiver, receiving_server

# Retries from 1 s doubling to 8 s (fake time, moved by the tests); disabled after 60 s.
HOOK_SETTINGS = {
    "webhook_retry_base": 1.0,
    "webhook_retry_max": 8.0,
    "webhook_disable_after": 60.0,
    "webhook_timeout": 2.0,
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="http://testserver",
        sandbox_provision_seconds=2.0,
        **HOOK_SETTINGS,  # type: ignore[arg-type]
    )


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    """The API in-process, without the worker or the sender (tests run passes by hand)."""
    with TestClient(create_app(services, run_worker=False)) as c:
        yield c


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving_server() as r:
        yield r
