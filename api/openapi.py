"""`/openapi.json` (OpenAPI 3.1) from the operation table and the Structs it names.

The document depends on nothing but the code (no settings, no server URL), so the copy
committed in docs/ can equal what every server serves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from api.auth import API_KEY, CLERK, INTERNAL
from api.examples import ERROR_EXAMPLES
from api.operations import Operation, errors_of
from api.schemas import ErrorAnswer

API_VERSION = "2.0.0"
REF = "#/components/schemas/{name}"
_PATH_PARAM = re.compile(r"{(\w+)}")

SECURITY_SCHEMES = {
    API_KEY: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "tuco_…",
        "description": "A workspace API key (`tuco keys create WORKSPACE`).",
    },
    CLERK: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Clerk session token (RS256); its organization names the workspace.",
    },
    INTERNAL: {
        "type": "http",
        "scheme": "bearer",
        "description": "The internal service token (`TUCO_INTERNAL_TOKEN`), for the "
        "messaging side.",
    },
}
RETRY_AFTER = {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
ERROR_HEADERS = {
    405: {"Allow": {"description": "The methods the path takes.", "schema": {"type": "string"}}},
    429: {"Retry-After": RETRY_AFTER},
    503: {"Retry-After": RETRY_AFTER},
}
INFO = {
    "title": "Tuco Lines API",
    "version": API_VERSION,
    "summary": "Request, pay for and manage the lines (phone numbers, email addresses) of a "
    "Tuco workspace.",
    "description": "JSON in and out. Every error answers "
    '`{"error": {"code", "message", "param"?}}`; each operation lists its codes per status. '
    "A method a path does not take answers 405 `method_not_allowed` with the path's "
    "`Allow` header; OPTIONS answers 204 with it. "
    "Generated from the handlers' own schemas: this document is the contract.",
}


def _ref(kind: type) -> dict[str, str]:
    return {"$ref": REF.format(name=kind.__name__)}


def document(operations: Iterable[Operation]) -> dict[str, Any]:
    ops = list(operations)
    queries = {op.query for op in ops if op.query is not None}
    kinds = {k for op in ops for k in (op.answer, op.body) if k is not None}
    kinds |= queries | {ErrorAnswer}
    ordered = sorted(kinds, key=lambda k: k.__name__)
    _, components = msgspec.json.schema_components(ordered, ref_template=REF)
    query_schemas = {q: components.pop(q.__name__) for q in queries}
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, query_schemas)
    tags = list(dict.fromkeys(op.tag for op in ops))
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _parameters(op: Operation, query_schemas: dict[type, Any]) -> list[dict[str, Any]]:
    declared = {(p.where, p.name): p for p in op.params}
    out: list[dict[str, Any]] = []
    for name in _PATH_PARAM.findall(op.path):
        p = declared.pop(("path", name), None)
        out.append(
            {"name": name, "in": "path", "required": True, "schema": dict(p.schema) if p else
             {"type": "string"}} | ({"description": p.description} if p and p.description else {})
        )  # fmt: skip
    if op.query is not None:
        schema = query_schemas[op.query]
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            entry = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                entry["description"] = prop["description"]
            out.append(entry)
    for p in declared.values():
        entry = {"name": p.name, "in": p.where, "required": p.required, "schema": dict(p.schema)}
        if p.description:
            entry["description"] = p.description
        out.append(entry)
    return out


def _success(op: Operation) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": op.summary}
    if op.answer is not None:
        media: dict[str, Any] = {"schema": _ref(op.answer)}
        if op.answer_example is not None:
            media["example"] = op.answer_example
        answer["content"] = {op.media_type: media}
    elif op.media_type != "application/json":
        answer["content"] = {op.media_type: {"schema": {"type": "string"}}}
    return answer


def _error(status: int, codes: tuple[str, ...]) -> dict[str, Any]:
    schema = {
        "allOf": [_ref(ErrorAnswer)],
        "properties": {"error": {"properties": {"code": {"enum": list(codes)}}}},
    }
    examples = {
        code: {"value": {"error": ERROR_EXAMPLES.get(code, {"code": code, "message": code})}}
        for code in codes
    }
    answer: dict[str, Any] = {
        "description": "Error codes: " + ", ".join(f"`{c}`" for c in codes) + ".",
        "content": {"application/json": {"schema": schema, "examples": examples}},
    }
    if status in ERROR_HEADERS:
        answer["headers"] = ERROR_HEADERS[status]
    return answer


def _operation(op: Operation, query_schemas: dict[type, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {str(op.status): _success(op)}
    for status, (text, kind) in op.other_answers.items():
        other: dict[str, Any] = {"description": text}
        if kind is not None:
            other["content"] = {"application/json": {"schema": _ref(kind)}}
        responses[str(status)] = other
    for status, codes in errors_of(op).items():
        error = _error(status, codes)
        own = responses.get(str(status))
        if own is not None and "content" in own:  # either body (e.g. /readyz's 503)
            content = error["content"]["application/json"]
            content["schema"] = {"anyOf": [own["content"]["application/json"]["schema"],
                                           content["schema"]]}  # fmt: skip
            text = own["description"].rstrip(".")
            error["description"] = f"{text}; or e" + error["description"][1:]
        responses[str(status)] = error
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "security": [{scheme: []} for scheme in op.access.schemes],
    }
    if op.description:
        out["description"] = op.description
    parameters = _parameters(op, query_schemas)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        media: dict[str, Any] = {"schema": _ref(op.body)}
        if op.body_example is not None:
            media["example"] = op.body_example
        out["requestBody"] = {"required": True, "content": {"application/json": media}}
    out["responses"] = dict(sorted(responses.items()))
    return out


def encoded(operations: Iterable[Operation]) -> bytes:
    """The document as served and committed (indented, keys in a stable order)."""
    return msgspec.json.format(msgspec.json.encode(document(operations)), indent=2) + b"\n"
