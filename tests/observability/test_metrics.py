"""GET /metrics (prometheus-client): latency by route template, commands by outcome, Stripe
webhook outcomes, outbound deliveries, projection and worker gauges."""

from __future__ import annotations

import os

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Plan
from tests.conftest import make_tenant
from tests.http.helpers import email_body, phone_body
from tests.observability.conftest import stall_projections

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_metrics_count_requests_commands_webhooks_and_deliveries(
    client: TestClient, services: Services
) -> None:
    tenant = make_tenant(services, "acme", Plan.MINI)
    refused = client.post("/api/line-requests", json=phone_body(), headers=tenant.headers)
    assert refused.status_code == 403
    created = client.post("/api/line-requests", json=email_body(), headers=tenant.headers)
    assert created.status_code == 201
    line_id = created.json()["line"]["_id"]
    for _ in range(2):
        assert client.get(f"/api/line-requests/{line_id}", headers=tenant.headers).is_success
    forged = client.post("/api/webhooks/stripe", content=b"{}", headers={"Stripe-Signature": "x"})
    assert forged.status_code == 400
    services.metrics.deliveries.inc("webhook", "delivered")
    services.read_model.wait_for()

    m = scrape(client)

    count = "tuco_http_request_duration_seconds_count"
    assert value(m, count, route="/api/line-requests/{id}", method="GET", status="200") == 2
    assert value(m, count, route="/api/line-requests", method="POST", status="403") == 1
    assert value(m, count, route="/api/line-requests", method="POST", status="201") == 1
    bucket = "tuco_http_request_duration_seconds_bucket"
    assert value(m, bucket, route="/api/line-requests/{id}", method="GET", status="200",
                 le="+Inf") == 2  # fmt: skip
    commands = "tuco_commands_total"
    assert value(m, commands, outcome="refused", reason="ChannelNotAvailable") == 1
    ok = value(m, commands, outcome="ok", reason="")
    assert ok is not None and ok >= 2  # the workspace, the request (and its view)
    webhooks = "tuco_stripe_webhooks_total"
    assert value(m, webhooks, type="unknown", outcome="invalid_signature") == 1
    assert value(m, "tuco_outbound_deliveries_total", kind="webhook", outcome="delivered") == 1
    assert value(m, "tuco_info", version="0.1.0", pid=str(os.getpid()), worker="false") == 1


def test_metrics_show_projection_state_and_the_worker_backlog(
    client: TestClient, services: Services
) -> None:
    tenant = make_tenant(services, "acme", Plan.MINI)
    assert client.post("/api/line-requests", json=email_body(), headers=tenant.headers).is_success
    services.read_model.wait_for()
    head = services.runner.head()

    m = scrape(client)

    assert value(m, "tuco_database_up") == 1
    assert value(m, "tuco_projection_head", projection="lines") == head
    assert value(m, "tuco_projection_position", projection="lines") == head
    assert value(m, "tuco_projection_lag", projection="lines") == 0
    assert value(m, "tuco_projection_set_aside", projection="lines") == 0
    assert value(m, "tuco_projection_stalled", projection="lines") == 0
    # No worker runs in this app: the included email line still owes its provisioning.
    assert value(m, "tuco_worker_backlog", kind="provision") == 1
    assert value(m, "tuco_worker_backlog", kind="invoice") == 0


def test_a_stalled_projection_shows_in_the_gauge(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert value(scrape(client), "tuco_projection_stalled", projection="lines") == 0
    stall_projections(services, monkeypatch)
    assert value(scrape(client), "tuco_projection_stalled", projection="lines") == 1
