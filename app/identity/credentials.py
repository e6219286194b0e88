"""Turn a presented credential into a ``Principal`` and bind the transaction's RLS context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import token_hashes
from app.identity.principal import Principal, PrincipalKind
from app.identity.repository import BoundMemberships, LiveApiKey, PrincipalContextRepository
from app.identity.scopes import Scope
from app.identity.snapshot import AUTHENTICATED_USER, AuthenticatedUser

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
    hashes = token_hashes(settings.secret_key_ring(), SESSION_PURPOSE, token)
    # One statement: the session, its user, and the memberships bound for RLS; without a
    # second factor, the workspaces that require one are withheld by the same call.
    found = await repo.authenticate_session(hashes, now)
    if found is None:
        return None
    user_session, user, memberships = found
    if user_session.token_hash != hashes[0]:  # issued under a previous SECRET_KEY
        await repo.rehash_session(user_session.id, user_session.token_hash, hashes[0])
    # Kept for the request's transaction: UserRepository.read_self (/v1/me) answers from it.
    session.info[AUTHENTICATED_USER] = user
    if now - user_session.last_seen_at > TOUCH_INTERVAL:
        idle_until = now + timedelta(seconds=settings.session_idle_timeout_seconds)
        await repo.touch_session(user_session.id, now, idle_until)
    return Principal(
        kind=PrincipalKind.SESSION,
        user_id=user.id,
        email=user.email,
        is_staff=user.is_staff,
        roles=memberships.roles,
        session_id=user_session.id,
        email_verified=user.email_verified_at is not None,
        has_second_factor=user_session.second_factor_at is not None,
        factor_verified_at=user_session.factor_verified_at,
        factor_required_workspaces=memberships.withheld,
    )


async def principal_from_api_key(
    session: AsyncSession, settings: Settings, token: str
) -> Principal | None:
    if not token.startswith(API_KEY_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    repo = PrincipalContextRepository(session)
    now = _now()
    hashes = token_hashes(settings.secret_key_ring(), API_KEY_PURPOSE, token)
    found, matched = await _find_api_key(repo, hashes, now)
    if found is None:
        return None
    api_key, user, memberships = found
    # The key reaches its own workspace only, and only while its creator is still a member.
    roles = memberships.roles
    if not roles:
        return None
    if matched != hashes[0]:  # issued under a previous SECRET_KEY (needs the workspace bound)
        await repo.rehash_api_key(api_key.id, matched, hashes[0])
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


async def _find_api_key(
    repo: PrincipalContextRepository, hashes: list[bytes], now: datetime
) -> tuple[tuple[LiveApiKey, AuthenticatedUser, BoundMemberships] | None, bytes]:
    """The key under the current hash, else under each previous key's (one lookup each: the
    row-level-security policy admits a transaction presenting exactly one hash).

    When a previous key was tried, the current hash is tried once more last: a concurrent
    request may have re-hashed this key between the first lookup and the others.
    """
    order = [*hashes, hashes[0]] if len(hashes) > 1 else hashes
    for candidate in order:
        found = await repo.authenticate_api_key(candidate, now)
        if found is not None:
            return found, candidate
    return None, hashes[0]
