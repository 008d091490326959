"""`GET /metrics` in the Prometheus text format (prometheus-client), for this process.

- `tuco_http_request_duration_seconds{route,method,status}`: latency histogram, observed by
  the request log middleware (route is the template, `unmatched` for a 404 without route);
- `tuco_commands_total{outcome,reason}`, `tuco_stripe_webhooks_total{type,outcome}`,
  `tuco_outbound_deliveries_total{kind,outcome}`: the application's tallies;
- `tuco_projection_{position,head,lag,set_aside,stalled}{projection}` and
  `tuco_worker_backlog{kind}`: read from the database when scraped;
- `tuco_info{version,pid,worker}` and the standard `process_*` / `python_*` series.

Each server process keeps its own registry: with `tuco serve --workers N` a scrape reaches
one process, and the counters are that process's (the `pid` label says which). Gauges read
from the database (projections, backlog) are the same from every process.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.auth import Access
from api.bootstrap import Services
from api.operations import Operation
from api.version import service_version
from application.errors import ServiceBusy
from application.metrics import Tally

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _counter(tally: Tally) -> CounterMetricFamily:
    family = CounterMetricFamily(tally.name, tally.doc, labels=list(tally.labels))
    for values, count in sorted(tally.counts().items()):
        family.add_metric(list(values), count)
    return family


class ServiceCollector(Collector):
    """The application's tallies, and the projections' and worker's state from the
    database, read at scrape time."""

    def __init__(self, services: Services, runs_worker: bool) -> None:
        self.services = services
        self.runs_worker = runs_worker

    def collect(self) -> Iterable[Metric]:
        s = self.services
        info = GaugeMetricFamily(
            "tuco_info", "This process: version, pid, worker", labels=["version", "pid", "worker"]
        )
        info.add_metric([service_version(), str(os.getpid()), str(self.runs_worker).lower()], 1)
        yield info
        for tally in s.metrics.tallies():
            yield _counter(tally)
        yield from self._database_gauges()

    def _database_gauges(self) -> Iterator[Metric]:
        s = self.services
        up = GaugeMetricFamily("tuco_database_up", "1 when the read model could be read")
        try:
            statuses = s.read_model.status()
            backlog = s.read_model.backlog()
        except (SQLAlchemyError, ServiceBusy):
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        stalled = 0 if s.read_model.follower.stalled() is None else 1
        names = {
            "position": "Log position the projection has applied",
            "head": "Last position in the event log",
            "lag": "Events logged but not yet applied",
            "set_aside": "Requests set aside (events the projection could not apply)",
            "stalled": "1 when this process's projection passes keep failing",
        }
        families = {
            key: GaugeMetricFamily(f"tuco_projection_{key}", doc, labels=["projection"])
            for key, doc in names.items()
        }
        for st in statuses:
            values = {
                "position": st.position,
                "head": st.head,
                "lag": st.head - st.position,
                "set_aside": len(st.set_aside),
                "stalled": stalled,
            }
            for key, value in values.items():
                families[key].add_metric([st.name], value)
        yield from families.values()
        work = GaugeMetricFamily(
            "tuco_worker_backlog", "Requests owing a worker step, by kind", labels=["kind"]
        )
        for kind, count in backlog.items():
            work.add_metric([kind.value], count)
        yield work


class ApiMetrics:
    """This app's registry: the latency histogram and the collectors above."""

    def __init__(self, services: Services, runs_worker: bool) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.latency = Histogram(
            "tuco_http_request_duration_seconds",
            "HTTP answers by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=BUCKETS,
        )
        self._children: dict[tuple[str, str, int], Histogram] = {}
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(ServiceCollector(services, runs_worker))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.latency.labels(route, method, str(status))
        child.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


async def metrics(request: Request) -> Response:
    api_metrics: ApiMetrics = request.app.state.metrics
    body = await run_in_threadpool(api_metrics.render)
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})


operations = [
    Operation(
        "GET", "/metrics", metrics, "metrics", "Prometheus metrics of this process",
        "operations", Access.PUBLIC, media_type="text/plain",
        description="The Prometheus text format: request latency by route template, "
        "commands by outcome, Stripe webhooks, outbound deliveries, projection lag and "
        "stalls, worker backlog. Each server process answers with its own counters.",
    ),
]  # fmt: skip
