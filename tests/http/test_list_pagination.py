"""GET /api/lines/by-user and GET /api/line-requests: limit, starting_after, the status and
requestedChannelType filters, has_more (SPEC §7), on both backends."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.bootstrap import Services
from application.listing import DEFAULT_PAGE, MAX_PAGE
from domain.decisions import LineDetails
from domain.enums import Channel, LineType, Plan, RequestSource
from tests.conftest import Tenant, make_tenant
from tests.http.helpers import LINE_FIELDS, act, assert_error, created, email_body

LISTS = ["/api/lines/by-user", "/api/line-requests"]


def many_phones(services: Services, workspace_id: str) -> None:
    """Room for any number of included phone lines."""
    services.workspaces.set_override(workspace_id, Channel.PHONE, 10_000, None)


def details(workspace_id: str, n: int, channel: Channel = Channel.PHONE) -> LineDetails:
    return LineDetails(
        workspace_id=workspace_id,
        channel=channel,
        line_type=LineType.PURCHASED,
        first_name=f"Line{n}",
        last_name="Paged",
        email="paged@example.com" if channel is Channel.EMAIL else None,
        phone=None,
        source=RequestSource.API,
    )


def add_lines(services: Services, workspace_id: str, count: int, start: int = 0) -> list[str]:
    """`count` included phone lines, committed in group commits; their ids, oldest first."""
    futures = [
        services.requests.submit_request(details(workspace_id, n))
        for n in range(start, start + count)
    ]
    return [str(f.result(timeout=30)[0].id) for f in futures]


def get_list(client: TestClient, t: Tenant, path: str, **params: Any) -> dict[str, Any]:
    r = client.get(path, params=params, headers=t.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def ids_of(path: str, body: dict[str, Any]) -> list[str]:
    if path == "/api/lines/by-user":
        return [line["_id"] for line in body["lines"]]
    return [item["line"]["_id"] for item in body["data"]]


def walk(client: TestClient, t: Tenant, path: str, limit: int, **filters: Any) -> list[str]:
    """Every page in turn, each starting after the last id of the one before."""
    seen: list[str] = []
    params: dict[str, Any] = {"limit": limit, **filters}
    while True:
        body = get_list(client, t, path, **params)
        page = ids_of(path, body)
        assert len(page) <= limit
        seen += page
        if not body["has_more"]:
            return seen
        assert len(page) == limit, "a page short of the limit says has_more"
        params["starting_after"] = page[-1]


@pytest.fixture
def tenant(services: Services) -> Tenant:
    t = make_tenant(services, "org_pages", Plan.GROWTH)
    many_phones(services, t.workspace_id)
    return t


def test_by_user_without_limit_answers_every_line_in_the_spec_shape(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    ids = add_lines(services, tenant.workspace_id, DEFAULT_PAGE + 5)
    body = get_list(client, tenant, "/api/lines/by-user")
    assert set(body) == {"lines", "has_more"}
    assert body["has_more"] is False
    assert ids_of("/api/lines/by-user", body) == ids[::-1]  # newest first
    assert all(set(line) == LINE_FIELDS for line in body["lines"])


def test_line_requests_answers_a_default_page_of_get_answers(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    ids = add_lines(services, tenant.workspace_id, DEFAULT_PAGE + 3)
    first = get_list(client, tenant, "/api/line-requests")
    assert set(first) == {"data", "has_more"}
    assert first["has_more"] is True
    assert ids_of("/api/line-requests", first) == ids[::-1][:DEFAULT_PAGE]
    item = first["data"][0]
    assert set(item) == {"status", "line", "paymentUrl"}
    assert item == client.get(f"/api/line-requests/{ids[-1]}", headers=tenant.headers).json()
    rest = get_list(client, tenant, "/api/line-requests", starting_after=ids[3])
    assert (ids_of("/api/line-requests", rest), rest["has_more"]) == (ids[2::-1], False)


@pytest.mark.parametrize("path", LISTS)
def test_walking_pages_sees_every_line_once_in_order(
    services: Services, client: TestClient, tenant: Tenant, path: str
) -> None:
    ids = add_lines(services, tenant.workspace_id, 11)
    assert walk(client, tenant, path, limit=3) == ids[::-1]
    assert walk(client, tenant, path, limit=11) == ids[::-1]
    full = get_list(client, tenant, path, limit=MAX_PAGE)
    assert (ids_of(path, full), full["has_more"]) == (ids[::-1], False)
    last = get_list(client, tenant, path, limit=5, starting_after=ids[0])
    assert (ids_of(path, last), last["has_more"]) == ([], False)


@pytest.mark.parametrize("path", LISTS)
def test_filters_by_status_and_channel_and_page_within_them(
    services: Services, client: TestClient, path: str
) -> None:
    t = make_tenant(services, "org_mixed", Plan.GROWTH)
    phones = add_lines(services, t.workspace_id, 2)  # the two included phones: provisioning
    emails = []
    for n in range(3):  # add-ons, one at a time: each is paid for or canceled before the next
        posted = created(client, t, email_body(firstName=f"Mail{n}"))
        emails.append(posted["line"]["_id"])
        if n < 2:
            assert act(client, t, emails[-1], "cancel").status_code == 200
    newest_first = [emails[2], emails[1], emails[0], phones[1], phones[0]]
    assert walk(client, t, path, limit=2) == newest_first
    assert walk(client, t, path, limit=1, requestedChannelType="phone") == phones[::-1]
    assert walk(client, t, path, limit=2, requestedChannelType="email") == emails[::-1]
    assert walk(client, t, path, limit=1, status="canceled") == [emails[1], emails[0]]
    assert walk(client, t, path, limit=5, status="awaiting_payment") == [emails[2]]
    both = {"status": "canceled", "requestedChannelType": "phone"}
    assert walk(client, t, path, limit=5, **both) == []
    # The cursor needs not match the filter: it only says where the page starts.
    after = get_list(client, t, path, limit=5, status="provisioning", starting_after=emails[0])
    assert ids_of(path, after) == phones[::-1]


@pytest.mark.parametrize("path", LISTS)
def test_a_workspace_lists_only_its_own_lines(
    services: Services, client: TestClient, tenant: Tenant, path: str
) -> None:
    other = make_tenant(services, "org_neighbour", Plan.GROWTH)
    theirs = add_lines(services, other.workspace_id, 2)
    ours = add_lines(services, tenant.workspace_id, 2)
    assert walk(client, tenant, path, limit=1) == ours[::-1]
    # Another workspace's id is no cursor here, and says nothing about that workspace.
    r = client.get(path, params={"starting_after": theirs[0]}, headers=tenant.headers)
    assert_error(r, 422, "validation_error", "starting_after")


BAD_PARAMS = [
    ({"limit": "0"}, "limit"),
    ({"limit": str(MAX_PAGE + 1)}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": ""}, "limit"),
    ({"limit": "null"}, "limit"),
    ({"limit": "99999999999999999999"}, "limit"),
    ({"starting_after": "not-an-id"}, "starting_after"),
    ({"starting_after": "00000000-0000-4000-8000-000000000000"}, "starting_after"),
    ({"status": "pending"}, "status"),
    ({"status": ""}, "status"),
    ({"requestedChannelType": "fax"}, "requestedChannelType"),
    ({"page": "2"}, "page"),
    ([("limit", "1"), ("limit", "2")], "limit"),
]


@pytest.mark.parametrize("path", LISTS)
def test_bad_parameters_are_422_naming_the_parameter(
    services: Services, client: TestClient, tenant: Tenant, path: str
) -> None:
    add_lines(services, tenant.workspace_id, 1)
    for params, param in BAD_PARAMS:
        r = client.get(path, params=params, headers=tenant.headers)  # type: ignore[arg-type]
        assert_error(r, 422, "validation_error", param)


@pytest.mark.parametrize("path", LISTS)
def test_lists_need_a_caller(client: TestClient, path: str) -> None:
    assert_error(client.get(path, params={"limit": "1"}), 401, "unauthorized")


def test_pages_are_stable_while_new_requests_commit(
    services: Services, client: TestClient, tenant: Tenant
) -> None:
    """A writer thread keeps committing requests while the pages are walked: every line that
    existed before the first page is seen exactly once, in order, and none of the new ones
    slips in between (they are all newer than the first page)."""
    before = add_lines(services, tenant.workspace_id, 40)
    committed = threading.Semaphore(0)
    go, stop = threading.Event(), threading.Event()
    new_ids: list[str] = []

    def keep_writing() -> None:
        go.wait(timeout=60)
        for n in range(1000, 1400):  # bounded; stopped as soon as the walk is over
            if stop.is_set():
                return
            new_ids.extend(add_lines(services, tenant.workspace_id, 1, start=n))
            committed.release()

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    pages = 0
    try:
        while True:
            if pages:  # at least one new request commits between one page and the next
                assert committed.acquire(timeout=30), "the writer thread stopped committing"
            path = LISTS[pages % 2]  # both lists share the cursor and the order
            body = get_list(client, tenant, path, **params)
            page = ids_of(path, body)
            seen += page
            pages += 1
            go.set()  # the writer starts once the first page is read
            if not body["has_more"]:
                break
            params["starting_after"] = page[-1]
    finally:
        go.set()
        stop.set()
        writer.join(timeout=30)
    assert seen == before[::-1]
    assert pages == 14
    assert len(new_ids) >= pages - 1  # new requests really were committed during the walk
    newest = get_list(client, tenant, "/api/line-requests", limit=1)
    assert ids_of("/api/line-requests", newest) == [new_ids[-1]]
