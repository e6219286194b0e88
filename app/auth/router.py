"""Sign-up, e-mail verification, login/logout and password flows (public + session routes)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from app.auth import service as auth_service
from app.auth.mfa.challenge import PendingFactor
from app.auth.mfa.schemas import SecondFactorRequired
from app.auth.schemas import (
    Accepted,
    LoginRequest,
    PasswordChangeRequest,
    PasswordResetConfirm,
    PasswordResetRequest,
    SignupRequest,
    VerifyEmailRequest,
)
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.rate_limit import Budget, limit_account, limit_by_ip
from app.identity.dependencies import (
    AuthDepsDep,
    SessionPrincipal,
    SettingsDep,
    csrf_protect,
    require_fresh_factor,
)
from app.identity.session_cookie import (
    clear_session_cookie,
    set_challenge_cookie,
    set_session_cookie,
)
from app.users.schemas import UserRead

# Public: no principal. csrf_protect stops a foreign site from logging a victim into an
# attacker's account (login CSRF) or driving these forms.
public_router = APIRouter(prefix="/v1/auth", tags=["auth"], dependencies=[Depends(csrf_protect)])
router = APIRouter(prefix="/v1/auth", tags=["auth"])


@public_router.post(
    "/signup",
    dependencies=[Depends(limit_by_ip(Budget.SIGNUP_IP))],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Create an account",
    responses=responses(403, 415, 422, 429, 503),
)
async def signup(body: SignupRequest, session: SessionDep, deps: AuthDepsDep) -> Accepted:
    """Register; a verification link is mailed. The answer is the same whether or not the
    address already has an account."""
    await auth_service.signup(
        session, deps, email=body.email, password=body.password, display_name=body.display_name
    )
    return Accepted(detail="If the address can be registered, a confirmation e-mail is on its way.")


@public_router.post(
    "/verify-email",
    dependencies=[Depends(limit_by_ip(Budget.VERIFY_EMAIL_IP))],
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Confirm an e-mail address or ask for a new link",
    responses=responses(403, 415, 422, 429, 503),
)
async def verify_email(
    body: VerifyEmailRequest, request: Request, session: SessionDep, deps: AuthDepsDep
) -> Accepted:
    """With ``token``: confirm the address. With ``email``: mail a fresh link if one is due."""
    if body.token is not None:
        await auth_service.confirm_email(session, deps, token=body.token)
        return Accepted(status="verified", detail="The e-mail address is confirmed.")
    assert body.email is not None
    await limit_account(request, Budget.VERIFY_EMAIL_ACCOUNT, body.email)
    await auth_service.resend_verification(session, deps, email=body.email)
    return Accepted(detail="If the address needs confirming, a new link is on its way.")


@public_router.post(
    "/login",
    dependencies=[Depends(limit_by_ip(Budget.LOGIN_IP))],
    response_model=UserRead,
    summary="Sign in",
    responses={
        202: {"model": SecondFactorRequired, "description": "Step 2 due: send a second factor"},
        **responses(401, 403, 415, 422, 429, 503),
    },
)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    deps: AuthDepsDep,
) -> UserRead | JSONResponse:
    """Check e-mail and password and set a fresh session cookie; an account with a second factor
    gets 202 ``second_factor_required`` and a five-minute half-session cookie instead, whether or
    not the password was right (step 2: ``POST /v1/auth/login/second-factor``)."""
    await limit_account(request, Budget.LOGIN_ACCOUNT, body.email)
    issued = await auth_service.login(
        session,
        deps,
        email=body.email,
        password=body.password,
        user_agent=request.headers.get("user-agent"),
    )
    if isinstance(issued, PendingFactor):
        due = SecondFactorRequired(methods=issued.methods, expires_in=issued.max_age)
        pending = JSONResponse(due.model_dump(), status_code=status.HTTP_202_ACCEPTED)
        set_challenge_cookie(pending, deps.settings, issued.token, issued.max_age)
        return pending
    set_session_cookie(response, deps.settings, issued.token, issued.max_age)
    return UserRead.model_validate(issued.user)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out this session",
    responses=responses(401, 403),
)
async def logout(
    principal: SessionPrincipal, response: Response, session: SessionDep, settings: SettingsDep
) -> Response:
    """Revoke the current session and clear its cookie."""
    await auth_service.logout(session, principal)
    response.status_code = status.HTTP_204_NO_CONTENT
    clear_session_cookie(response, settings)
    return response


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out everywhere",
    responses=responses(401, 403),
)
async def logout_all(
    principal: SessionPrincipal, response: Response, session: SessionDep, settings: SettingsDep
) -> Response:
    """Revoke every session of this account, this one included."""
    await auth_service.logout_all(session, principal)
    response.status_code = status.HTTP_204_NO_CONTENT
    clear_session_cookie(response, settings)
    return response


@public_router.post(
    "/password-reset",
    dependencies=[Depends(limit_by_ip(Budget.PASSWORD_RESET_IP))],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Ask for a password reset link",
    responses=responses(403, 415, 422, 429, 503),
)
async def request_password_reset(
    body: PasswordResetRequest, request: Request, session: SessionDep, deps: AuthDepsDep
) -> Accepted:
    """Mail a single-use reset link; the answer never says whether the account exists."""
    await limit_account(request, Budget.PASSWORD_RESET_ACCOUNT, body.email)
    await auth_service.request_password_reset(session, deps, email=body.email)
    return Accepted(detail="If the address has an account, a reset link is on its way.")


@public_router.post(
    "/password-reset/confirm",
    dependencies=[Depends(limit_by_ip(Budget.PASSWORD_RESET_IP))],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password from a reset link",
    responses=responses(403, 415, 422, 429, 503),
)
async def confirm_password_reset(
    body: PasswordResetConfirm, session: SessionDep, deps: AuthDepsDep
) -> Response:
    """Set the new password and sign out every session of the account."""
    await auth_service.confirm_password_reset(
        session, deps, token=body.token, new_password=body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password-change",
    dependencies=[Depends(require_fresh_factor)],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the password",
    responses=responses(401, 403, 415, 422, 429),
)
async def change_password(
    body: PasswordChangeRequest,
    principal: SessionPrincipal,
    session: SessionDep,
    deps: AuthDepsDep,
) -> Response:
    """Change the password (the current one is required); other sessions are signed out."""
    await auth_service.change_password(
        session,
        deps,
        principal,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
