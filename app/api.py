"""Every domain router, included once. The route inventory test reads this app's routes."""

from fastapi import APIRouter, Depends, FastAPI

from app.admin.router import router as admin_router
from app.api_keys.router import router as api_keys_router
from app.auth.mfa.router import public_router as mfa_public_router
from app.auth.mfa.router import router as mfa_router
from app.auth.passkeys.router import auth_router as passkey_auth_router
from app.auth.passkeys.router import public_router as passkey_public_router
from app.auth.passkeys.router import router as passkeys_router
from app.auth.router import public_router as auth_public_router
from app.auth.router import router as auth_router
from app.bots.router import router as bots_router
from app.chat.router import router as chat_router
from app.console.router import router as console_router
from app.conversations.router import router as conversations_router
from app.core.route_prefilter import guard_last_included
from app.disclosure.router import router as disclosure_router
from app.files.router import router as files_router
from app.health.router import router as health_router
from app.identity.rate_limits import limit_reads
from app.invitations.router import router as invitations_router
from app.monitoring.router import router as metrics_router
from app.users.router import router as users_router
from app.webhooks.inbound.router import router as webhooks_inbound_router  # webhooks
from app.webhooks.outbound.router import router as webhook_endpoints_router  # webhooks
from app.workspaces.router import router as workspaces_router

# Public routers: every route on them is listed in PUBLIC_ROUTES below.
PUBLIC_ROUTERS: tuple[APIRouter, ...] = (
    health_router,
    disclosure_router,  # /.well-known/security.txt (SECURITY_CONTACT)
    auth_public_router,
    mfa_public_router,  # login step 2: the half-session cookie instead of a principal
    passkey_public_router,  # passkey sign-in: an anonymous ceremony cookie (app/auth/passkeys)
    # --- Webhooks: inbound calls carry a Standard Webhooks signature instead of a principal ---
    webhooks_inbound_router,
    # --- Observability: GET /metrics answers only a bearer METRICS_TOKEN (404 when unset) ---
    metrics_router,
    # --- Console: the HTML shell, its files and its CSP report sink (app/console) ---
    console_router,
)

# Private routers deny by default: the principal dependency is attached at the router level, so a
# route that forgets to declare its own still rejects anonymous callers (FastAPI resolves the
# dependency once per request, so routes that declare it pay nothing extra). Every GET on them
# also counts against the general per-principal read budget (RATE_LIMIT_READ, fails open).
PRIVATE_ROUTERS: tuple[APIRouter, ...] = (
    auth_router,
    mfa_router,
    passkey_auth_router,
    passkeys_router,
    users_router,
    workspaces_router,
    invitations_router,
    api_keys_router,
    bots_router,
    conversations_router,
    chat_router,
    files_router,
    admin_router,
    webhook_endpoints_router,  # webhooks
)
# limit_reads depends on get_principal: every private route authenticates first (the route
# inventory walks the dependency tree), and FastAPI resolves the principal's subtree once less
# per request than with get_principal listed beside it (docs/performance.md, Round 5).
PRIVATE_DEPENDENCIES = [Depends(limit_reads)]


def include_api(target: FastAPI | APIRouter) -> None:
    """Include every domain router into ``target``, directly.

    The application includes them itself rather than through one umbrella router: each level of
    ``include_router`` nesting is walked again on every request to match the path (twice: once
    to select, once to handle), which cost about a tenth of an authenticated read's CPU
    (docs/performance.md). Each included router is guarded (app/core/route_prefilter.py): it
    answers "no match" at once for a path none of its routes can match.
    """
    routes = target.router if isinstance(target, FastAPI) else target
    for router in PUBLIC_ROUTERS:
        routes.include_router(router)
        guard_last_included(routes)
    for router in PRIVATE_ROUTERS:
        routes.include_router(router, dependencies=PRIVATE_DEPENDENCIES)
        guard_last_included(routes)


# The same routes under one router: what the route inventory and architecture tests read.
api_router = APIRouter()
include_api(api_router)

# Routes that need no principal. Everything else must declare one; tests/test_route_inventory.py
# fails on any route that is neither listed here nor guarded.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/readyz/dependencies"),  # names and up/down only, cached (app/health)
        ("GET", "/.well-known/security.txt"),  # RFC 9116 contact (app/disclosure)
        ("GET", "/metrics"),  # not a principal: a scraper's METRICS_TOKEN (app/monitoring)
        ("POST", "/v1/auth/signup"),
        ("POST", "/v1/auth/login/second-factor"),  # the half-session cookie (app/auth/mfa)
        # Passkeys (app/auth/passkeys): the half-session cookie, or an anonymous ceremony cookie.
        ("POST", "/v1/auth/login/second-factor/passkey-options"),
        ("POST", "/v1/auth/login/passkey/options"),
        ("POST", "/v1/auth/login/passkey"),
        ("POST", "/v1/auth/verify-email"),
        ("POST", "/v1/auth/login"),
        ("POST", "/v1/auth/password-reset"),
        ("POST", "/v1/auth/password-reset/confirm"),
        # Webhooks: verified by signature per source (app/webhooks/inbound/verification.py).
        ("POST", "/v1/webhooks/inbound/{source}"),
        # Console (app/console): pages the mailed links open, their files, CSP reports.
        ("GET", "/"),
        ("GET", "/verify-email"),
        ("GET", "/reset-password"),
        ("GET", "/invitations"),
        ("GET", "/console/assets/{name}"),
        ("POST", "/console/csp-reports"),
    }
)
