"""Resolve the request's ``Principal`` once, and the typed gates routes declare.

A route with no principal parameter is public, and that is visible in its signature; every
private route takes one of the ``Annotated`` aliases below.
The route inventory test fails on any route that is neither public-listed nor guarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.core.metrics import AUTH_FAILURES
from app.identity import credentials
from app.identity.csrf import enforce_csrf
from app.identity.errors import SecondFactorEnrolmentRequired, StepUpRequired
from app.identity.passwords import PasswordService
from app.identity.principal import Principal


@dataclass(frozen=True)
class AuthDeps:
    settings: Settings
    passwords: PasswordService
    sessionmaker: async_sessionmaker[AsyncSession]
    # A separate small pool for detached audit writes (see app.main lifespan).
    audit_sessionmaker: async_sessionmaker[AsyncSession]


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_principal(request: Request, session: SessionDep) -> Principal:
    """Authenticate the caller from ``Authorization: Bearer <api key>`` or the session cookie.

    Every failure (missing, malformed, unknown, expired, revoked, suspended user) raises the
    same ``Unauthorized``, so a prober learns nothing about which it was. Cookie-borne unsafe
    requests also pass the CSRF check. The settings come from the application's state, not
    ``SettingsDep``: one dependency fewer to resolve on every private request.
    """
    settings: Settings = request.app.state.settings
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            AUTH_FAILURES.labels(reason="malformed_authorization").inc()
            raise Unauthorized()
        principal = await credentials.principal_from_api_key(session, settings, token.strip())
        failure = "bad_api_key"
    else:
        cookie = request.cookies.get(settings.session_cookie_name)
        if not cookie:
            AUTH_FAILURES.labels(reason="missing_credential").inc()
            raise Unauthorized()
        principal = await credentials.principal_from_session(session, settings, cookie)
        failure = "bad_session"
        if principal is not None:
            enforce_csrf(request, settings)
    if principal is None:
        AUTH_FAILURES.labels(reason=failure).inc()
        raise Unauthorized()
    if principal.factor_required_workspaces:
        _refuse_withheld_workspace(request, principal)
    request.state.principal = principal
    return principal


def _refuse_withheld_workspace(request: Request, principal: Principal) -> None:
    """A route naming a workspace whose owners require a second factor answers a clear 403 to
    a member without one (resources reached by their own id are simply out of reach)."""
    named = request.path_params.get("workspace_id")
    if named is not None and str(named) in {str(ws) for ws in principal.factor_required_workspaces}:
        raise SecondFactorEnrolmentRequired(
            "This workspace requires a second factor: enrol one at POST /v1/auth/mfa/totp.",
            code="workspace_requires_second_factor",
        )


AnyPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_session_principal(principal: AnyPrincipal) -> Principal:
    """Routes about the signed-in person (profile, sessions, keys): API keys are refused."""
    if not principal.is_session:
        raise Forbidden(
            "This route needs a signed-in user, not an API key.", code="session_required"
        )
    return principal


SessionPrincipal = Annotated[Principal, Depends(get_session_principal)]


async def require_fresh_factor(principal: AnyPrincipal, settings: SettingsDep) -> None:
    """Step-up: a session of a factor-enrolled account must have presented its factor within
    ``STEP_UP_MAX_AGE_SECONDS``, else 401 ``step_up_required`` (docs/mfa.md). Accounts without a
    factor have nothing to step up with (the staff and workspace policies decide whether they
    must enrol); API keys carry no factor and are refused by those routes' own gates."""
    if not principal.is_session or not principal.has_second_factor:
        return
    if not principal.factor_fresh(datetime.now(UTC), settings.step_up_max_age_seconds):
        raise StepUpRequired()


async def get_staff_principal(principal: SessionPrincipal, settings: SettingsDep) -> Principal:
    """Platform staff only, only through a session (never an API key), only with a second factor
    presented within the step-up window (a staff account without one may only enrol)."""
    if not principal.is_staff:
        raise Forbidden("Platform staff only.", code="staff_only")
    if not principal.has_second_factor:
        raise SecondFactorEnrolmentRequired(
            "Staff accounts need a second factor: enrol one at POST /v1/auth/mfa/totp or a "
            "passkey at POST /v1/me/second-factors/passkey-options."
        )
    await require_fresh_factor(principal, settings)
    return principal


StaffPrincipal = Annotated[Principal, Depends(get_staff_principal)]


async def csrf_protect(request: Request, settings: SettingsDep) -> None:
    """CSRF check for public cookie-setting routes (login, signup, reset, verify)."""
    enforce_csrf(request, settings)


async def get_auth_deps(request: Request) -> AuthDeps:
    return AuthDeps(
        settings=request.app.state.settings,
        passwords=request.app.state.passwords,
        sessionmaker=request.app.state.sessionmaker,
        audit_sessionmaker=request.app.state.audit_sessionmaker,
    )


AuthDepsDep = Annotated[AuthDeps, Depends(get_auth_deps)]
