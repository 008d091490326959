"""`GET /api/line-requests/:id/events` (security review, findings 4 and 5): one page at a time,
each event with an allow-list of fields; an operator's URL is shown to the tenant as its origin
only, while `tuco audit` still shows everything. HTTP client libraries do not log URLs."""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from starlette.testclient import TestClient

from adapters.health_probe import HttpHealthProbe
from adapters.quiet_loggers import HTTP_CLIENT_LOGGERS
from api.bootstrap import Services
from api.cli import main
from api.tenant_events import ALLOWED, MAX_LIMIT, tenant_event
from domain.enums import Channel, Plan
from domain.line_request import LineRequest
from domain.workspace import Workspace
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import assert_error, created, phone_body
from tests.lines.helpers import LineServer

ACTIVATED_AT = "https://lines.example:8443/srv/a1?token=s3cret-activation"
CONFIGURED_AT = "http://10.1.2.3:9000/private/path?token=t0ken-operator"


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return make_tenant(services, "org_growth", Plan.GROWTH)


def events(client: TestClient, tenant: Tenant, request_id: str, **params: Any) -> Any:
    r = client.get(f"/api/line-requests/{request_id}/events", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


def active_line(services: Services, client: TestClient, tenant: Tenant) -> str:
    """An active line whose provider and operator set server URLs carrying tokens."""
    request_id = created(client, tenant, phone_body())["line"]["_id"]
    services.provisioning.activate(
        UUID(request_id), "+12025550100", None, "prov-1", server_url=ACTIVATED_AT
    )

    def configure(req: LineRequest, ws: Workspace) -> list[Aggregate]:
        req.configure_server(CONFIGURED_AT)
        return [req]

    services.app.change_request(UUID(request_id), configure)
    return request_id


def change_limits(services: Services, request_id: str, times: int) -> None:
    for n in range(times):

        def decide(req: LineRequest, ws: Workspace, n: int = n) -> list[Aggregate]:
            req.change_limits(10 + n, None)
            return [req]

        services.app.change_request(UUID(request_id), decide)


def test_an_operators_urls_are_shown_to_the_tenant_as_their_origin_only(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    request_id = active_line(services, client, tenant)
    r = client.get(f"/api/line-requests/{request_id}/events", headers=tenant.headers)
    assert r.status_code == 200, r.text
    for secret in ("s3cret", "t0ken", "/private", "/srv/a1", "token="):
        assert secret not in r.text
    by_type = {e["type"]: e["data"] for e in r.json()["events"]}
    assert by_type["Activated"] == {
        "phone": "+12025550100",
        "email": None,
        "provider_ref": "prov-1",
        "server_url": "https://lines.example:8443",
    }
    assert by_type["ServerConfigured"] == {"server_url": "http://10.1.2.3:9000"}


def test_the_operators_audit_still_shows_every_field(
    services: Services,
    client: TestClient,
    tenant: Tenant,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    request_id = active_line(services, client, tenant)
    monkeypatch.setenv("TUCO_DATABASE_URL", database_url)
    monkeypatch.delenv("TUCO_BILLING", raising=False)
    capsys.readouterr()
    assert main(["audit", request_id, "--json"]) == 0
    audited = {e["type"]: e["data"] for e in json.loads(capsys.readouterr().out)["events"]}
    assert audited["Activated"]["server_url"] == ACTIVATED_AT
    assert audited["ServerConfigured"]["server_url"] == CONFIGURED_AT


def test_fields_outside_the_allow_list_and_unknown_event_types_show_no_data(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    request_id = created(client, tenant, phone_body())["line"]["_id"]
    requested = services.app.history(UUID(request_id))[0]
    requested.__dict__["operator_note"] = "internal: carrier account 42"
    shown = tenant_event(requested)
    assert "operator_note" not in shown.data
    assert set(shown.data) == set(ALLOWED["Requested"])

    class Unlisted(LineRequest.Event):
        secret_field: str

    unlisted = Unlisted(  # type: ignore[call-arg]
        originator_id=UUID(request_id),
        originator_version=9,
        timestamp=requested.timestamp,
        secret_field="x",
    )
    assert tenant_event(unlisted).data == {}


def test_the_history_comes_in_pages_by_version(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    request_id = created(client, tenant, phone_body())["line"]["_id"]
    change_limits(services, request_id, 7)  # 2 + 7 = 9 events
    everything = events(client, tenant, request_id)
    assert everything["has_more"] is False
    assert [e["version"] for e in everything["events"]] == list(range(1, 10))

    pages, after = [], None
    while True:
        params = {"limit": 4} | ({} if after is None else {"starting_after": after})
        page = events(client, tenant, request_id, **params)
        pages.append([e["version"] for e in page["events"]])
        if not page["has_more"]:
            break
        after = page["events"][-1]["version"]
    assert pages == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert events(client, tenant, request_id, starting_after=9) == {"events": [], "has_more": False}
    walked = [
        e
        for v in (0, 4, 8)
        for e in events(client, tenant, request_id, limit=4, starting_after=v)["events"]
    ]
    assert walked == everything["events"]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": str(MAX_LIMIT + 1)}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"starting_after": "-1"}, "starting_after"),
        ({"starting_after": "1.5"}, "starting_after"),
        ({"starting_after": "99999999999"}, "starting_after"),
    ],
)
def test_a_bad_page_parameter_is_a_validation_error(
    services: Services, client: TestClient, tenant: Tenant, params: dict[str, str], param: str
) -> None:
    request_id = created(client, tenant, phone_body())["line"]["_id"]
    r = client.get(f"/api/line-requests/{request_id}/events", params=params, headers=tenant.headers)
    assert_error(r, 422, "validation_error", param)


def test_page_parameters_do_not_open_another_workspaces_history(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    request_id = created(client, tenant, phone_body())["line"]["_id"]
    other = make_tenant(services, "org_other", Plan.GROWTH)
    r = client.get(
        f"/api/line-requests/{request_id}/events?limit=1&starting_after=0", headers=other.headers
    )
    assert_error(r, 404, "not_found")


def test_http_client_libraries_do_not_log_the_urls_they_call(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    assert all(logging.getLogger(n).level == logging.WARNING for n in HTTP_CLIENT_LOGGERS)
    server = LineServer()
    try:
        with caplog.at_level(logging.DEBUG):
            result = HttpHealthProbe(2.0).probe(f"{server.url}/?token=probe-s3cret", Channel.PHONE)
    finally:
        server.stop()
    assert result.failures  # the path with the query is not the line's /health
    assert len(server.paths()) == 2  # both requests were made, and logged nowhere
    assert "probe-s3cret" not in caplog.text
