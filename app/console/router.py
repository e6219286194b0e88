"""The console's routes: the HTML shell, its static files and the CSP report sink.

Public by nature (a sign-in page cannot require a session), listed in ``app.api.PUBLIC_ROUTES``,
and behind the same middleware as the API (request id, security headers, HTTPS, trusted hosts,
body caps). Not in the OpenAPI schema: they are pages, not API.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from app.console import reports
from app.console.assets import assets, shell
from app.console.policy import ASSET_HEADERS, REPORT_PATH, SHELL_HEADERS
from app.core.errors import NotFound
from app.core.rate_limit import Budget, limit_by_ip

router = APIRouter(include_in_schema=False)
# The pages the platform's e-mails link to (app/auth/service.py, app/invitations/service.py);
# each is the same shell, which reads the token from the URL fragment (never sent to a server).
SHELL_PATHS = ("/", "/verify-email", "/reset-password", "/invitations")


async def console_shell() -> Response:
    """The one HTML document of the console; its scripts pick the screen from the URL."""
    return Response(shell(), media_type="text/html; charset=utf-8", headers=SHELL_HEADERS)


for _path in SHELL_PATHS:
    router.add_api_route(_path, console_shell, methods=["GET"])


@router.get("/console/assets/{name}")
async def console_asset(name: str) -> Response:
    """A script or stylesheet of the console, by exact file name."""
    asset = assets().get(name)
    if asset is None:
        raise NotFound("No such console file.")
    return Response(asset.body, media_type=asset.media_type, headers=ASSET_HEADERS)


@router.post(
    REPORT_PATH,
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(limit_by_ip(Budget.CSP_REPORT))],
)
async def csp_report(request: Request) -> Response:
    """Count the violations a browser reports (docs/console.md); 4xx problem+json otherwise."""
    reports.check_media_type(request.headers.get("content-type", ""))
    reports.record(await reports.read_capped(request.stream()))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
