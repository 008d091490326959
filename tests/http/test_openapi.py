"""/openapi.json: generated from the operation table, complete, committed, and served as it
is committed; /docs from local assets only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import msgspec
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from api import endpoints, openapi, reference
from api.app import configured, create_app
from api.bootstrap import Services
from api.operations import errors_of

DOCS = Path(__file__).resolve().parents[2] / "docs"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# SPEC §4 and §7: every error code the service may answer.
SPEC_CODES = {
    "unauthorized", "forbidden", "not_found", "invalid_signature", "validation_error",
    "subscription_required", "channel_not_available", "line_limit_reached", "payment_pending",
    "invalid_transition", "idempotency_conflict", "line_not_checkable", "service_unavailable",
    "method_not_allowed", "payload_too_large", "unsupported_media_type", "rate_limited",
}  # fmt: skip


@pytest.fixture
def doc() -> dict[str, Any]:
    return openapi.document(endpoints.operations())


@pytest.fixture
def app_client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services, run_worker=False)) as c:
        yield c


def test_the_committed_openapi_json_and_api_md_are_current() -> None:
    for name, text in reference.files().items():
        committed = (DOCS / name).read_text()
        assert committed == text, f"docs/{name} is out of date: run `make api-docs`"


@SQLITE_ONLY
def test_the_served_document_equals_the_committed_one(app_client: TestClient) -> None:
    r = app_client.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.content == (DOCS / "openapi.json").read_bytes()
    assert r.json()["openapi"] == "3.1.0"


@SQLITE_ONLY
def test_every_route_and_method_of_the_app_is_in_the_document(
    services: Services, doc: dict[str, Any]
) -> None:
    app = create_app(services, run_worker=False)
    routed = {r.path for r in app.routes if isinstance(r, Route)}
    # The document lists every operation; a configuration serves some of them (the
    # embedded default: all but the http provisioner's callback).
    served = {op.path for op in configured(endpoints.operations(), services)}
    assert routed == served
    assert set(doc["paths"]) - served == {"/internal/provisioning/{id}"}
    with TestClient(app) as c:
        for path, methods in doc["paths"].items():
            if path not in served:
                continue
            concrete = re.sub(r"{\w+}", "x", path)
            r = c.options(concrete)
            assert r.status_code == 204, path
            expected = {m.upper() for m in methods} | {"OPTIONS"}
            if "GET" in expected:
                expected.add("HEAD")
            assert set(r.headers["allow"].split(", ")) == expected, path


def test_every_error_code_of_the_spec_is_documented_with_its_status(
    doc: dict[str, Any],
) -> None:
    documented: dict[str, set[int]] = {}
    for op in endpoints.operations():
        for status, codes in errors_of(op).items():
            for code in codes:
                documented.setdefault(code, set()).add(status)
    # `forbidden` is the 403 of no route today; 405 belongs to no operation (see info).
    assert SPEC_CODES - {"forbidden", "method_not_allowed"} <= set(documented)
    assert "`method_not_allowed`" in doc["info"]["description"]
    assert documented["payment_pending"] == {409}
    assert documented["validation_error"] == {422}
    assert documented["unauthorized"] == {401}
    # 405 is answered for a path's other methods: its shape is in the components.
    assert "ErrorAnswer" in doc["components"]["schemas"]


def test_each_operation_states_its_security_and_the_three_schemes_exist(
    doc: dict[str, Any],
) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKey", "ClerkSession", "InternalToken"}
    assert all(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    ops = {op["operationId"]: op for m in doc["paths"].values() for op in m.values()}
    assert ops["createLineRequest"]["security"] == [{"ApiKey": []}, {"ClerkSession": []}]
    assert ops["checkAvailability"]["security"] == [{"ClerkSession": []}]
    assert ops["reportUsage"]["security"] == [{"InternalToken": []}]
    assert ops["health"]["security"] == []
    for op in ops.values():
        assert ("401" in op["responses"]) == bool(op["security"]), op["operationId"]


def test_every_example_matches_its_schema(doc: dict[str, Any]) -> None:
    components = {"components": doc["components"]}
    checked = 0
    for methods in doc["paths"].values():
        for op in methods.values():
            media = [*op["responses"].values()]
            if "requestBody" in op:
                media.append(op["requestBody"])
            for answer in media:
                for content in answer.get("content", {}).values():
                    values = [content["example"]] if "example" in content else []
                    values += [e["value"] for e in content.get("examples", {}).values()]
                    validator = jsonschema_rs.Draft202012Validator(components | content["schema"])
                    for value in values:
                        errors = [e.message for e in validator.iter_errors(value)]
                        assert not errors, (op["operationId"], value, errors)
                        checked += 1
    assert checked > 50


def test_the_usage_counters_have_one_name_everywhere(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert {"newMessages", "totalMessages"} <= set(schemas["Usage"]["properties"])
    assert {"newMessages", "totalMessages"} <= set(schemas["Allowance"]["properties"])
    assert b"newConversations" not in msgspec.json.encode(doc)


@SQLITE_ONLY
def test_docs_are_served_from_local_assets_only(app_client: TestClient) -> None:
    page = app_client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links)
    assert "http://" not in page.text and "https://" not in page.text
    assert '"/openapi.json"' in page.text
    for link in links:
        asset = app_client.get(link)
        assert asset.status_code == 200, link
        assert len(asset.content) > 100, link
    bundle = app_client.get("/docs/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert app_client.get("/docs/../../etc/passwd").status_code == 404
    assert app_client.get("/docs/setup.py").status_code == 404
