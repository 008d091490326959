"""`TucoClient`: the Tuco Lines API over httpx, with typed answers and errors."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import msgspec

from tuco_client.errors import TucoError, UnexpectedStatus, WaitTimeout
from tuco_client.models import (
    TERMINAL,
    Channel,
    Event,
    EventList,
    Line,
    LineRequest,
    LineRequestsPage,
    LinesPage,
    Status,
)

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 503})


class TucoClient:
    """A workspace's view of the API, authenticated with its API key (or a Clerk token).

    Reads and `request_line` are retried on 429 and 503, up to `max_retries` times, after
    the answer's `Retry-After` (capped at `max_retry_wait` seconds) or, without one, an
    exponential backoff with jitter. `request_line` is safe to retry: it always sends an
    Idempotency-Key, made here when the caller gives none.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep

    def __enter__(self) -> TucoClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # Commands -------------------------------------------------------------------------

    def request_line(
        self,
        channel: Channel | str,
        first_name: str,
        last_name: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        line_type: str = "purchased",
        idempotency_key: str | None = None,
    ) -> LineRequest:
        """POST /api/line-requests. Without `idempotency_key` a fresh one is made, so the
        client's own retries never create a second request."""
        body: dict[str, Any] = {
            "requestedChannelType": Channel(channel).value,
            "requestedLineType": line_type,
            "firstName": first_name,
            "lastName": last_name,
        }
        if email is not None:
            body["email"] = email
        if phone is not None:
            body["phone"] = phone
        key = idempotency_key or str(uuid.uuid4())
        return self._call(
            "POST", "/api/line-requests", LineRequest, json=body,
            headers={"Idempotency-Key": key}, retry=True,
        )  # fmt: skip

    def payment_link(self, request_id: str) -> LineRequest:
        """The open invoice's hosted link (`payment_url`) of an add-on awaiting payment."""
        return self._action(request_id, "payment_link")

    def cancel(self, request_id: str) -> LineRequest:
        """Cancel a request awaiting payment (its invoice is voided)."""
        return self._action(request_id, "cancel")

    def _action(self, request_id: str, action: str) -> LineRequest:
        path = f"/api/line-requests/{request_id}"
        return self._call("POST", path, LineRequest, json={"action": action}, retry=False)

    # Reads ----------------------------------------------------------------------------

    def get(self, request_id: str) -> LineRequest:
        return self._call("GET", f"/api/line-requests/{request_id}", LineRequest)

    def events(self, request_id: str) -> list[Event]:
        """The request's whole history, oldest first (every page of /events)."""
        path = f"/api/line-requests/{request_id}/events"
        events: list[Event] = []
        params: dict[str, Any] = {}
        while True:
            page = self._call("GET", path, EventList, params=params or None)
            events += page.events
            if not page.has_more or not page.events:
                return events
            params["starting_after"] = page.events[-1].version

    def lines(
        self,
        *,
        status: Status | str | None = None,
        channel: Channel | str | None = None,
        page_size: int = 100,
    ) -> Iterator[Line]:
        """Every line of the workspace, newest first, fetched a page at a time
        (GET /api/lines/by-user); lines created meanwhile do not shift the pages."""
        params = _filters(status, channel, page_size)
        while True:
            page = self._call("GET", "/api/lines/by-user", LinesPage, params=params)
            yield from page.lines
            if not page.has_more or not page.lines:
                return
            params["starting_after"] = page.lines[-1].id

    def line_requests(
        self,
        *,
        status: Status | str | None = None,
        channel: Channel | str | None = None,
        page_size: int = 20,
    ) -> Iterator[LineRequest]:
        """As `lines`, each as GET by id answers it (GET /api/line-requests)."""
        params = _filters(status, channel, page_size)
        while True:
            page = self._call("GET", "/api/line-requests", LineRequestsPage, params=params)
            yield from page.data
            if not page.has_more or not page.data:
                return
            params["starting_after"] = page.data[-1].id

    def wait_for(
        self,
        request_id: str,
        status: Status | str,
        timeout: float = 60.0,
        *,
        interval: float = 0.2,
        max_interval: float = 2.0,
    ) -> LineRequest:
        """Poll GET until the request is in `status`; the pause grows from `interval` to
        `max_interval`. Raises `UnexpectedStatus` as soon as it ends in another final
        status, and `WaitTimeout` after `timeout` seconds."""
        wanted = Status(status)
        deadline = time.monotonic() + timeout
        last: LineRequest | None = None
        while True:
            last = self.get(request_id)
            if last.status is wanted:
                return last
            if last.status in TERMINAL:
                raise UnexpectedStatus(request_id, wanted.value, last.status.value)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(request_id, wanted.value, last.status.value)
            self._sleep(min(interval, remaining))
            interval = min(interval * 1.5, max_interval)

    # The wire -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        into: type[T],
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
    ) -> T:
        attempt = 0
        while True:
            r = self._http.request(method, path, json=json, params=params, headers=headers)
            if r.status_code < 400:
                return msgspec.json.decode(r.content, type=into)
            wait = retry_after(r.headers.get("retry-after"))
            if retry and r.status_code in RETRY_STATUSES and attempt < self.max_retries:
                self._sleep(self._delay(attempt, wait))
                attempt += 1
                continue
            raise TucoError.from_response(r.status_code, _json(r), wait)

    def _delay(self, attempt: int, wait: float | None) -> float:
        if wait is None:
            wait = 0.25 * 2**attempt * (1 + random.random())  # jitter
        return min(max(wait, 0.0), self.max_retry_wait)


def _filters(
    status: Status | str | None, channel: Channel | str | None, page_size: int
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": page_size}
    if status is not None:
        params["status"] = Status(status).value
    if channel is not None:
        params["requestedChannelType"] = Channel(channel).value
    return params


def retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds: a number of seconds or an HTTP date; None if absent."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None
