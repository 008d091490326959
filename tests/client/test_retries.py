"""The client's retries on 429 and 503: against a real rate-limited `tuco serve`, and with
scripted answers (httpx.MockTransport, no network) for what a server rarely says."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest

from tests.client.conftest import prepare
from tests.support.server import running_server
from tuco_client import RateLimited, ServiceUnavailable, TucoClient
from tuco_client.client import retry_after

LINE = {
    "_id": "11111111-1111-4111-8111-111111111111", "workspaceId": "org_x", "firstName": "A",
    "lastName": "B", "phone": None, "email": None, "isActive": False,
    "provisioningStatus": "provisioning", "paymentStatus": "not_required",
    "requestSource": "api", "requestedChannelType": "phone", "requestedLineType": "purchased",
    "paymentLinkUrl": None, "stripeInvoiceId": None, "dailyNewConversationsLimit": 50,
    "dailyTotalMessagesLimit": 500,
    "usage": {"date": "2026-01-15", "newMessages": 0, "totalMessages": 0},
    "healthCheck": None, "createdAt": "2026-01-15T12:00:00Z", "updatedAt": "2026-01-15T12:00:00Z",
}  # fmt: skip
ANSWER = {"status": "provisioning", "line": LINE, "paymentUrl": None}
BUSY = {"error": {"code": "service_unavailable", "message": "Retry shortly."}}


Scripted = tuple[TucoClient, list[float], list[httpx.Request]]


def scripted(*answers: tuple[int, dict[str, str], object]) -> Scripted:
    """A client whose server answers these (status, headers, body) in turn."""
    queue = list(answers)
    sent: list[httpx.Request] = []
    slept: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        status, headers, body = queue.pop(0)
        return httpx.Response(status, headers=headers, content=orjson.dumps(body))

    tuco = TucoClient("http://tuco.test", "tk_x", transport=httpx.MockTransport(handle),
                      sleep=slept.append)  # fmt: skip
    return tuco, slept, sent


def test_request_line_retries_503_after_retry_after_with_the_same_key() -> None:
    tuco, slept, sent = scripted(
        (503, {"Retry-After": "2"}, BUSY), (503, {}, BUSY), (201, {}, ANSWER)
    )
    assert tuco.request_line("phone", "A", "B").status.value == "provisioning"
    assert len(sent) == 3
    assert len({r.headers["idempotency-key"] for r in sent}) == 1
    assert slept[0] == 2.0
    assert 0 < slept[1] <= 1.0  # no Retry-After: backoff with jitter


def test_reads_give_up_after_max_retries_with_a_typed_error() -> None:
    tuco, slept, sent = scripted(*[(503, {"Retry-After": "1"}, BUSY)] * 4)
    with pytest.raises(ServiceUnavailable) as info:
        tuco.get(LINE["_id"])  # type: ignore[arg-type]
    assert (len(sent), slept) == (4, [1.0, 1.0, 1.0])
    assert info.value.retry_after == 1.0


def test_actions_are_not_retried() -> None:
    tuco, slept, sent = scripted((503, {"Retry-After": "1"}, BUSY))
    with pytest.raises(ServiceUnavailable):
        tuco.cancel(LINE["_id"])  # type: ignore[arg-type]
    assert (len(sent), slept) == (1, [])


def test_a_long_retry_after_is_capped_and_dates_are_understood() -> None:
    tuco, slept, _ = scripted((429, {"Retry-After": "3600"}, BUSY), (200, {}, ANSWER))
    tuco.max_retry_wait = 5.0
    tuco.get(LINE["_id"])  # type: ignore[arg-type]
    assert slept == [5.0]
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: at once
    assert retry_after("soon") is None


@pytest.mark.slow
def test_a_rate_limited_key_is_retried_after_the_servers_retry_after(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/tuco.db"
    keys = prepare(url)
    env = {"TUCO_RATE_LIMIT": "0.5", "TUCO_RATE_BURST": "1"}  # one call per 2 s
    with running_server(url, env=env) as base_url:
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            time.sleep(seconds)  # the client really waits; the test waits on nothing

        with TucoClient(base_url, keys["org_client"], sleep=sleep) as patient:
            first = patient.request_line("phone", "First", "Line")
            second = patient.request_line("phone", "Second", "Line")
            assert patient.get(second.id).id == second.id
            ids = [line.id for line in patient.lines()]
        assert ids == [second.id, first.id]  # each retried POST created one request
        assert slept and all(s >= 1.0 for s in slept)  # waited as the Retry-After said
        with TucoClient(base_url, keys["org_client"]) as hasty:
            hasty.max_retries = 0
            with pytest.raises(RateLimited) as info:
                for _ in range(5):  # back to back: soon one finds the bucket empty
                    hasty.get(first.id)
        assert info.value.status == 429 and (info.value.retry_after or 0) >= 1.0
