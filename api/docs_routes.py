"""`/openapi.json` and `/docs` (Swagger UI 5 from the installed swagger-ui-bundle-v2 wheel:
no CDN, no other host; works offline)."""

from __future__ import annotations

from importlib.resources.abc import Traversable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from api.auth import Access
from api.operations import Operation, Param
from domain.errors import NotFound

ASSETS = {
    "swagger-ui.css": "text/css",
    "index.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tuco Lines API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="stylesheet" href="/docs/index.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout", validatorUrl: null});
</script></body></html>
"""


async def openapi_json(request: Request) -> Response:
    document: bytes = request.app.state.openapi
    return Response(document, media_type="application/json")


async def docs_page(request: Request) -> Response:
    return HTMLResponse(PAGE)


def _read(asset: Traversable) -> bytes:
    return asset.read_bytes()


async def docs_asset(request: Request) -> Response:
    name = request.path_params["asset"]
    if name not in ASSETS:
        raise NotFound("documentation asset", name)
    body = await run_in_threadpool(_read, swagger_ui_path / name)
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(body, media_type=ASSETS[name], headers=headers)


DOCS = "documentation"

operations = [
    Operation(
        "GET", "/openapi.json", openapi_json, "openapi", "This document (OpenAPI 3.1)", DOCS,
        Access.PUBLIC, description="Generated from the schemas the handlers validate and "
        "render with; committed as docs/openapi.json.",
    ),
    Operation(
        "GET", "/docs", docs_page, "docs", "The API reference in Swagger UI", DOCS,
        Access.PUBLIC, media_type="text/html",
    ),
    Operation(
        "GET", "/docs/{asset}", docs_asset, "docsAsset", "A Swagger UI asset", DOCS,
        Access.PUBLIC, media_type="*/*", errors={404: ("not_found",)},
        params=(Param("asset", "path", {"type": "string", "enum": sorted(ASSETS)}),),
    ),
]  # fmt: skip
