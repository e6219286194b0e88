"""Every domain router, included once. The route inventory test reads this app's routes."""

from fastapi import APIRouter

from app.admin.router import router as admin_router
from app.api_keys.router import router as api_keys_router
from app.auth.router import public_router as auth_public_router
from app.auth.router import router as auth_router
from app.health.router import router as health_router
from app.invitations.router import router as invitations_router
from app.users.router import router as users_router
from app.workspaces.router import router as workspaces_router

api_router = APIRouter()
for router in (
    health_router,
    auth_public_router,
    auth_router,
    users_router,
    workspaces_router,
    invitations_router,
    api_keys_router,
    admin_router,
):
    api_router.include_router(router)

# Routes that need no principal. Everything else must declare one; tests/test_route_inventory.py
# fails on any route that is neither listed here nor guarded.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("POST", "/v1/auth/signup"),
        ("POST", "/v1/auth/verify-email"),
        ("POST", "/v1/auth/login"),
        ("POST", "/v1/auth/password-reset"),
        ("POST", "/v1/auth/password-reset/confirm"),
    }
)
