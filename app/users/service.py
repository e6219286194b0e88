"""The signed-in user's own profile and sessions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.errors import NotFound
from app.identity.models import User
from app.identity.principal import Principal
from app.identity.repository import SessionRepository
from app.identity.snapshot import AuthenticatedUser
from app.users.repository import UserRepository
from app.users.schemas import SessionRead


async def get_me(session: AsyncSession, principal: Principal) -> User | AuthenticatedUser:
    user = await UserRepository(session).read_self(principal.user_id)
    if user is None:  # deleted between authentication and now
        raise NotFound()
    return user


async def update_me(
    session: AsyncSession, principal: Principal, *, display_name: str | None
) -> User:
    user = await UserRepository(session).get_self(principal.user_id)
    if user is None:  # deleted between authentication and now
        raise NotFound()
    if display_name is not None:
        user.display_name = display_name
    await session.flush()
    return user


async def list_my_sessions(session: AsyncSession, principal: Principal) -> list[SessionRead]:
    rows = await SessionRepository(session).list_live(principal.user_id, datetime.now(UTC))
    return [
        SessionRead.model_validate(row).model_copy(
            update={"current": row.id == principal.session_id}
        )
        for row in rows
    ]


async def revoke_my_session(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID
) -> None:
    """Revoke one of *my* sessions; another user's session id is simply not found."""
    now = datetime.now(UTC)
    target = await SessionRepository(session).get_live_of_user(principal.user_id, session_id, now)
    if target is None:
        raise NotFound()
    target.revoked_at = now
    await audit.record(
        session,
        "auth.session_revoked",
        principal=principal,
        target_type="session",
        target_id=session_id,
    )
