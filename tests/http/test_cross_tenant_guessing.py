"""Cross-tenant id guessing (issue 12): 1,000 probes, 500 with random ids and 500 with real ids
of another workspace, spread over GET, /events and a POST action, all answer 404 with the same
body apart from the id. Median times are printed, not asserted (a timing ratio on a shared
machine is flaky)."""

from __future__ import annotations

import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Channel, Plan
from tests.conftest import make_tenant

PROBES = 500  # of each kind


ENDPOINTS = [
    ("GET", "/api/line-requests/{}", None),
    ("GET", "/api/line-requests/{}/events", None),
    ("POST", "/api/line-requests/{}", {"action": "cancel"}),
]


def _probe(client: TestClient, headers: dict[str, str], rid: str, n: int) -> tuple[int, str, float]:
    method, path, body = ENDPOINTS[n % len(ENDPOINTS)]
    started = time.perf_counter()
    r = client.request(method, path.format(rid), json=body, headers=headers)
    took = time.perf_counter() - started
    return r.status_code, r.text.replace(rid, "<id>"), took


def test_random_and_foreign_ids_all_answer_the_same_404(
    client: TestClient, services: Services
) -> None:
    guesser = make_tenant(services, "org_guesser", Plan.GROWTH)
    owner = make_tenant(services, "org_owner", Plan.GROWTH)
    services.workspaces.set_override("org_owner", Channel.PHONE, PROBES, None)
    body = {"requestedChannelType": "phone", "firstName": "O", "lastName": "W"}

    def create(_: int) -> str:
        r = client.post("/api/line-requests", json=body, headers=owner.headers)
        assert r.status_code == 201, r.text
        return str(r.json()["line"]["_id"])

    with ThreadPoolExecutor(8) as pool:  # group-committed: cheaper than one by one
        foreign = list(pool.map(create, range(PROBES)))
    random_ids = [str(uuid.uuid4()) for _ in range(PROBES)]

    answers = {
        kind: [_probe(client, guesser.headers, rid, n) for n, rid in enumerate(ids)]
        for kind, ids in (("random", random_ids), ("foreign", foreign))
    }

    statuses = {status for kind in answers.values() for status, _, _ in kind}
    bodies = {text for kind in answers.values() for _, text, _ in kind}
    assert statuses == {404}
    assert bodies == {
        '{"error":{"code":"not_found","message":"No line request <id> was found."}}'
    }, bodies
    assert sum(len(a) for a in answers.values()) == 2 * PROBES
    # The owner still sees its lines untouched (the POST actions canceled nothing).
    listed = client.get("/api/lines/by-user", headers=owner.headers).json()["lines"]
    assert {line["_id"] for line in listed} == set(foreign)
    assert {line["provisioningStatus"] for line in listed} != {"canceled"}
    medians = {
        kind: statistics.median(took for _, _, took in a) * 1000 for kind, a in answers.items()
    }
    print(
        f"cross-tenant probes: {2 * PROBES} answers, all 404 with one body; median ms "
        f"random {medians['random']:.2f}, foreign {medians['foreign']:.2f}"
    )
