"""Turn a presented credential into a ``Principal`` and bind the transaction's RLS context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, PrincipalKind
from app.auth.repository import PrincipalContextRepository
from app.auth.scopes import Scope
from app.core.config import Settings
from app.core.security import token_hash
from app.users.repository import AUTHENTICATED_USER

SESSION_PURPOSE = "session"
API_KEY_PURPOSE = "api_key"
API_KEY_PREFIX = "lpk_"
MAX_TOKEN_LENGTH = 128
# Write last_seen/last_used at most this often: a read-mostly request then costs no UPDATE.
TOUCH_INTERVAL = timedelta(seconds=60)


def _now() -> datetime:
    return datetime.now(UTC)


async def principal_from_session(
    session: AsyncSession, settings: Settings, token: str
) -> Principal | None:
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    repo = PrincipalContextRepository(session)
    now = _now()
    found = await repo.session_with_user(
        token_hash(settings.require_secret_key(), SESSION_PURPOSE, token), now
    )
    if found is None:
        return None
    user_session, user = found
    # Kept for the request's transaction: UserRepository.read_self (/v1/me) answers from it.
    session.info[AUTHENTICATED_USER] = user
    roles = await repo.bind_memberships(user.id)
    if now - user_session.last_seen_at > TOUCH_INTERVAL:
        idle_until = now + timedelta(seconds=settings.session_idle_timeout_seconds)
        await repo.touch_session(user_session.id, now, idle_until)
    return Principal(
        kind=PrincipalKind.SESSION,
        user_id=user.id,
        email=user.email,
        is_staff=user.is_staff,
        roles=roles,
        session_id=user_session.id,
        email_verified=user.email_verified_at is not None,
    )


async def principal_from_api_key(
    session: AsyncSession, settings: Settings, token: str
) -> Principal | None:
    if not token.startswith(API_KEY_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    repo = PrincipalContextRepository(session)
    now = _now()
    found = await repo.api_key_with_user(
        token_hash(settings.require_secret_key(), API_KEY_PURPOSE, token), now
    )
    if found is None:
        return None
    api_key, user = found
    # The key reaches its own workspace only, and only while its creator is still a member.
    roles = await repo.bind_memberships(user.id, only_workspace=api_key.workspace_id)
    if not roles:
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at > TOUCH_INTERVAL:
        await repo.touch_api_key(api_key.id, now)
    return Principal(
        kind=PrincipalKind.API_KEY,
        user_id=user.id,
        email=user.email,
        is_staff=False,
        roles=roles,
        api_key_id=api_key.id,
        scopes=frozenset(
            Scope(scope) for scope in api_key.scopes if scope in Scope._value2member_map_
        ),
        email_verified=user.email_verified_at is not None,
    )
