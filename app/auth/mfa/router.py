"""Second-factor routes: login step 2 (public), enrolment, recovery codes and step-up (session).

Contract for clients (the console): a 202 ``second_factor_required`` from login means "ask for a
factor"; a 401 ``step_up_required`` from any route means "ask for a factor, POST it to
/v1/auth/step-up, then retry"; a 403 ``second_factor_enrolment_required`` means "enrol first".
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request, Response, status

from app.auth.mfa import service as mfa_service
from app.auth.mfa.login import complete_login
from app.auth.mfa.schemas import (
    FactorProof,
    FactorStatusRead,
    RecoveryCodesShown,
    StepUpRead,
    TotpConfirm,
    TotpEnrolmentRead,
)
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.rate_limit import Budget, client_ip_key, limit_by_ip, limiter_of
from app.identity.dependencies import (
    AuthDepsDep,
    SessionPrincipal,
    csrf_protect,
    require_fresh_factor,
)
from app.identity.session_cookie import (
    challenge_cookie_name,
    clear_challenge_cookie,
    set_session_cookie,
)
from app.users.schemas import UserRead

public_router = APIRouter(prefix="/v1/auth", tags=["auth"], dependencies=[Depends(csrf_protect)])
router = APIRouter(prefix="/v1/auth", tags=["auth"])
# Routes that replace or remove a factor need the current one, freshly (step-up).
FRESH = [Depends(require_fresh_factor)]


async def limit_factor_attempts(request: Request, principal: SessionPrincipal) -> None:
    """Step-up attempts per account and client IP (login step 2 counts the same budget)."""
    await limiter_of(request).hit(
        Budget.SECOND_FACTOR_ACCOUNT, f"{principal.user_id}|{client_ip_key()}"
    )


@public_router.post(
    "/login/second-factor",
    dependencies=[Depends(limit_by_ip(Budget.SECOND_FACTOR_IP))],
    response_model=UserRead,
    summary="Sign in, step 2: the second factor",
    responses=responses(400, 401, 403, 415, 422, 429, 503),
)
async def login_second_factor(
    body: FactorProof, request: Request, response: Response, session: SessionDep, deps: AuthDepsDep
) -> UserRead:
    """Complete a sign-in started by ``POST /v1/auth/login`` in this browser (the half-session
    cookie) with a TOTP code, a recovery code, or a passkey answering
    ``POST /v1/auth/login/second-factor/passkey-options``; sets the session cookie."""
    name = challenge_cookie_name(deps.settings)
    code, recovery_code = body.parts
    issued = await complete_login(
        session,
        deps,
        challenge_token=request.cookies.get(name, ""),
        user_agent=request.headers.get("user-agent"),
        code=code,
        recovery_code=recovery_code,
        limiter=limiter_of(request),
        passkey=body.assertion,
    )
    set_session_cookie(response, deps.settings, issued.token, issued.max_age)
    clear_challenge_cookie(response, deps.settings)
    return UserRead.model_validate(issued.user)


@router.get(
    "/mfa",
    response_model=FactorStatusRead,
    summary="My second factors",
    responses=responses(401, 403),
)
async def factor_status(principal: SessionPrincipal, session: SessionDep) -> FactorStatusRead:
    """Which factors are enrolled, recovery codes left, and when this session last used one."""
    found = await mfa_service.status(session, principal)
    return FactorStatusRead(**found.__dict__)


@router.post(
    "/mfa/totp",
    dependencies=FRESH,
    response_model=TotpEnrolmentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Start enrolling an authenticator app",
    responses=responses(409),
)
async def start_totp(
    principal: SessionPrincipal, session: SessionDep, deps: AuthDepsDep
) -> TotpEnrolmentRead:
    """A new TOTP secret and its ``otpauth://`` URI (render it as a QR code); confirm it with a
    first code. Accounts that already have a factor must have used it within the step-up window."""
    enrolment = await mfa_service.start_totp(session, deps, principal)
    return TotpEnrolmentRead(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post(
    "/mfa/totp/confirm",
    dependencies=[*FRESH, Depends(limit_factor_attempts)],
    response_model=RecoveryCodesShown,
    summary="Finish enrolling an authenticator app",
    responses=responses(409, 429),
)
async def confirm_totp(
    body: TotpConfirm, principal: SessionPrincipal, session: SessionDep, deps: AuthDepsDep
) -> RecoveryCodesShown:
    """Activate the app with its current code; answers ten recovery codes, shown only now."""
    fresh = await mfa_service.confirm_totp(session, deps, principal, code=body.code)
    return RecoveryCodesShown(recovery_codes=fresh)


@router.delete(
    "/mfa/totp",
    dependencies=FRESH,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the authenticator app",
    responses=responses(409),
)
async def disable_totp(principal: SessionPrincipal, session: SessionDep) -> Response:
    """Needs a fresh factor. With no factor left, sign-in returns to the password alone."""
    await mfa_service.disable_totp(session, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/mfa/recovery-codes",
    dependencies=FRESH,
    response_model=RecoveryCodesShown,
    summary="Replace my recovery codes",
    responses=responses(409),
)
async def regenerate_recovery_codes(
    principal: SessionPrincipal, session: SessionDep, deps: AuthDepsDep
) -> RecoveryCodesShown:
    """Ten new codes (shown once); the old ones stop working. Needs a fresh factor."""
    fresh = await mfa_service.regenerate_recovery_codes(session, deps, principal)
    return RecoveryCodesShown(recovery_codes=fresh)


@router.post(
    "/step-up",
    dependencies=[Depends(limit_by_ip(Budget.SECOND_FACTOR_IP)), Depends(limit_factor_attempts)],
    response_model=StepUpRead,
    summary="Confirm it is me (step-up)",
    responses=responses(400, 409, 429),
)
async def step_up(
    body: FactorProof, principal: SessionPrincipal, session: SessionDep, deps: AuthDepsDep
) -> StepUpRead:
    """Present a factor (a passkey answers ``POST /v1/auth/step-up/passkey-options``); routes
    answering ``step_up_required`` open for this session during ``STEP_UP_MAX_AGE_SECONDS``."""
    code, recovery_code = body.parts
    at = await mfa_service.step_up(
        session, deps, principal, code=code, recovery_code=recovery_code, passkey=body.assertion
    )
    return StepUpRead(
        factor_verified_at=at,
        fresh_until=at + timedelta(seconds=deps.settings.step_up_max_age_seconds),
    )
