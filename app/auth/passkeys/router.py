"""Passkey routes: manage my passkeys (session), the prompts of step-up and login step 2, and
sign-in with a passkey alone (public, an anonymous ceremony cookie). docs/mfa.md.

Client contract (a console screen calls these): fetch options, pass ``publicKey`` through
``PublicKeyCredential.parse{Creation,Request}OptionsFromJSON`` to ``navigator.credentials``,
and post the credential's ``toJSON()`` back.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from app.auth.mfa.router import FRESH, limit_factor_attempts
from app.auth.passkeys import service
from app.auth.passkeys.ceremony import CEREMONY_TTL_SECONDS
from app.auth.passkeys.cookie import (
    clear_ceremony_cookie,
    passkey_cookie_name,
    set_ceremony_cookie,
)
from app.auth.passkeys.schemas import (
    PasskeyCreated,
    PasskeyList,
    PasskeyOptions,
    PasskeyProof,
    PasskeyRead,
    PasskeyRegistration,
    PasskeyRename,
)
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.rate_limit import Budget, limit_by_ip, limiter_of
from app.identity.dependencies import AuthDepsDep, SessionPrincipal, csrf_protect
from app.identity.session_cookie import challenge_cookie_name, set_session_cookie
from app.users.schemas import UserRead

public_router = APIRouter(prefix="/v1/auth", tags=["auth"], dependencies=[Depends(csrf_protect)])
auth_router = APIRouter(prefix="/v1/auth", tags=["auth"])
router = APIRouter(prefix="/v1/me/second-factors", tags=["me"])


def _options(prompt: service.Prompt) -> PasskeyOptions:
    return PasskeyOptions(publicKey=prompt.options, expires_in=prompt.max_age)


@public_router.post(
    "/login/passkey/options",
    dependencies=[Depends(limit_by_ip(Budget.LOGIN_IP))],
    response_model=PasskeyOptions,
    summary="Sign in with a passkey: the prompt",
    responses=responses(403, 429, 503),
)
async def passkey_login_options(
    request: Request, session: SessionDep, deps: AuthDepsDep
) -> JSONResponse:
    """Options for ``navigator.credentials.get`` naming no account (the authenticator offers its
    passkeys for this site); sets the two-minute ``__Host-lp_passkey`` ceremony cookie."""
    prompt = await service.login_options(session, deps, request.headers.get("user-agent"))
    answer = JSONResponse(_options(prompt).model_dump())
    assert prompt.token is not None
    set_ceremony_cookie(answer, deps.settings, prompt.token, prompt.max_age)
    return answer


@public_router.post(
    "/login/passkey",
    dependencies=[Depends(limit_by_ip(Budget.LOGIN_IP))],
    response_model=UserRead,
    summary="Sign in with a passkey",
    responses=responses(400, 401, 403, 415, 422, 429, 503),
)
async def passkey_login(
    body: PasskeyProof, request: Request, response: Response, session: SessionDep, deps: AuthDepsDep
) -> UserRead:
    """Answer the prompt of ``/login/passkey/options`` from the same browser with a
    discoverable passkey (user verification required); sets the session cookie, which counts
    as having presented a second factor."""
    issued = await service.login(
        session,
        deps,
        token=request.cookies.get(passkey_cookie_name(deps.settings), ""),
        user_agent=request.headers.get("user-agent"),
        response=body.assertion,
        limiter=limiter_of(request),
    )
    set_session_cookie(response, deps.settings, issued.token, issued.max_age)
    clear_ceremony_cookie(response, deps.settings)
    return UserRead.model_validate(issued.user)


@public_router.post(
    "/login/second-factor/passkey-options",
    dependencies=[Depends(limit_by_ip(Budget.SECOND_FACTOR_IP))],
    response_model=PasskeyOptions,
    summary="Sign in, step 2: the passkey prompt",
    responses=responses(401, 403, 409, 429, 503),
)
async def second_factor_options(
    request: Request, session: SessionDep, deps: AuthDepsDep
) -> PasskeyOptions:
    """Options for ``navigator.credentials.get`` for the account of this browser's half
    session (``POST /v1/auth/login`` answered 202 with ``passkey`` among the methods); answer
    with ``{"passkey": ...}`` at ``POST /v1/auth/login/second-factor``."""
    prompt = await service.second_factor_options(
        session,
        deps,
        challenge_token=request.cookies.get(challenge_cookie_name(deps.settings), ""),
        user_agent=request.headers.get("user-agent"),
    )
    return _options(prompt)


@auth_router.post(
    "/step-up/passkey-options",
    dependencies=[Depends(limit_by_ip(Budget.SECOND_FACTOR_IP))],
    response_model=PasskeyOptions,
    summary="Step-up: the passkey prompt",
    responses=responses(409, 429),
)
async def step_up_options(
    principal: SessionPrincipal, session: SessionDep, deps: AuthDepsDep
) -> PasskeyOptions:
    """Options for ``navigator.credentials.get`` bound to this session; answer with
    ``{"passkey": ...}`` at ``POST /v1/auth/step-up``."""
    return _options(await service.step_up_options(session, deps, principal))


@router.post(
    "/passkey-options",
    dependencies=FRESH,
    response_model=PasskeyOptions,
    summary="Start registering a passkey",
    responses=responses(409),
)
async def registration_options(
    principal: SessionPrincipal, session: SessionDep, deps: AuthDepsDep
) -> PasskeyOptions:
    """Options for ``navigator.credentials.create``: a discoverable passkey with user
    verification, bound to this session. Needs a fresh factor when the account has one."""
    options = await service.registration_options(session, deps, principal)
    return PasskeyOptions(publicKey=options, expires_in=CEREMONY_TTL_SECONDS)


@router.post(
    "/passkeys",
    dependencies=[*FRESH, Depends(limit_factor_attempts)],
    response_model=PasskeyCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Finish registering a passkey",
    responses=responses(400, 409, 429),
)
async def register(
    body: PasskeyRegistration, principal: SessionPrincipal, session: SessionDep, deps: AuthDepsDep
) -> PasskeyCreated:
    """The credential ``navigator.credentials.create`` returned, and a name for it. The
    account's first factor answers ten recovery codes, shown only now."""
    done = await service.register(
        session, deps, principal, name=body.name, response=body.passkey.as_webauthn()
    )
    return PasskeyCreated(
        **PasskeyRead.model_validate(done.passkey).model_dump(), recovery_codes=done.recovery_codes
    )


@router.get(
    "/passkeys", response_model=PasskeyList, summary="My passkeys", responses=responses(429)
)
async def list_passkeys(principal: SessionPrincipal, session: SessionDep) -> PasskeyList:
    """Names, creation and last use; never the key material."""
    found = await service.list_passkeys(session, principal)
    return PasskeyList(items=[PasskeyRead.model_validate(k) for k in found])


@router.patch(
    "/passkeys/{passkey_id}",
    response_model=PasskeyRead,
    summary="Rename a passkey",
    responses=responses(404),
)
async def rename(
    passkey_id: uuid.UUID, body: PasskeyRename, principal: SessionPrincipal, session: SessionDep
) -> PasskeyRead:
    """A new name for one of my passkeys (audited; no step-up: the name grants nothing)."""
    return PasskeyRead.model_validate(
        await service.rename(session, principal, passkey_id, body.name)
    )


@router.delete(
    "/passkeys/{passkey_id}",
    dependencies=FRESH,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a passkey",
    responses=responses(404),
)
async def remove(
    passkey_id: uuid.UUID, principal: SessionPrincipal, session: SessionDep
) -> Response:
    """Needs a fresh factor. With no factor left, sign-in returns to the password alone."""
    await service.remove(session, principal, passkey_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
