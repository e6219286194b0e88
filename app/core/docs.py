"""``/docs`` (development and tests only): Swagger UI served from this origin, offline.

FastAPI's page loads Swagger UI from a CDN and boots it from an inline script, so it is blank
offline and needs a CSP with ``unsafe-inline``. Here the assets come from the
``swagger-ui-bundle-v2`` package (the ``dev`` extra) and the boot code is a static file, so the
page runs under ``script-src 'self'`` (app/core/security_headers.py, ``DOCS_CSP``).
Production never serves it: ``production_problems`` refuses ``DOCS_ENABLED``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from app.core.errors import problem_response

# Only these files are served: the bundle directory also holds source maps and ES builds.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Launchproof API</title>
<link rel="icon" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/boot.js"></script>
</body>
</html>
"""
# Same-origin requests carry the session cookie and the browser's Origin header (CSRF) itself.
BOOT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
});
"""


def _bundle_dir() -> Path | None:
    try:
        bundle = importlib.import_module("swagger_ui_bundle")
    except ImportError:
        return None
    return Path(bundle.swagger_ui_path)


def _missing() -> Response:
    return problem_response(
        503,
        code="docs_assets_missing",
        title="Service unavailable",
        detail="Swagger UI is not installed: pip install -e '.[dev]'.",
        headers={"Retry-After": "3600"},
    )


async def docs_page(_request: Request) -> Response:
    if _bundle_dir() is None:
        return _missing()
    return Response(PAGE, media_type="text/html; charset=utf-8")


async def docs_boot(_request: Request) -> Response:
    return Response(BOOT, media_type="text/javascript; charset=utf-8")


async def docs_asset(request: Request) -> Response:
    name = str(request.path_params["name"])
    directory = _bundle_dir()
    if name not in ASSETS:
        return problem_response(404, code="not_found", title="Not found")
    if directory is None:
        return _missing()
    return FileResponse(directory / name, media_type=ASSETS[name])


def docs_routes() -> list[BaseRoute]:
    return [
        Route("/docs", docs_page, methods=["GET"], include_in_schema=False),
        Route("/docs/boot.js", docs_boot, methods=["GET"], include_in_schema=False),
        Route("/docs/assets/{name}", docs_asset, methods=["GET"], include_in_schema=False),
    ]
