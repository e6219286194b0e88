"""The signed-in user: profile and sessions (session credentials only, never API keys)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.core.db import SessionDep
from app.core.openapi import responses
from app.identity.dependencies import SessionPrincipal
from app.users import service as user_service
from app.users.schemas import SessionList, UserRead, UserUpdate

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get("", response_model=UserRead, summary="Who am I", responses=responses(401, 403))
async def get_me(principal: SessionPrincipal, session: SessionDep) -> UserRead:
    """The signed-in user's profile."""
    return UserRead.model_validate(await user_service.get_me(session, principal))


@router.patch(
    "", response_model=UserRead, summary="Update my profile", responses=responses(401, 403, 422)
)
async def update_me(body: UserUpdate, principal: SessionPrincipal, session: SessionDep) -> UserRead:
    """Change the display name (e-mail and role are not writable here)."""
    user = await user_service.update_me(session, principal, display_name=body.display_name)
    return UserRead.model_validate(user)


@router.get(
    "/sessions", response_model=SessionList, summary="My sessions", responses=responses(401, 403)
)
async def list_my_sessions(principal: SessionPrincipal, session: SessionDep) -> SessionList:
    """Live sessions of this account; ``current`` marks the one making this request."""
    return SessionList(items=await user_service.list_my_sessions(session, principal))


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of my sessions",
    responses=responses(401, 403, 404),
)
async def revoke_my_session(
    session_id: uuid.UUID, principal: SessionPrincipal, session: SessionDep
) -> Response:
    """Sign out one session of this account."""
    await user_service.revoke_my_session(session, principal, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
