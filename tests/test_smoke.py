from starlette.testclient import TestClient

from api.bootstrap import Services
from domain.enums import Plan
from tests.conftest import make_tenant


def test_included_phone_line_is_provisioning(services: Services, client: TestClient) -> None:
    t = make_tenant(services, "org_smoke", Plan.GROWTH)
    r = client.post(
        "/api/line-requests",
        headers=t.headers,
        json={"requestedChannelType": "phone", "firstName": "A", "lastName": "B"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "provisioning"
