"""Workspace API keys: shown once, stored as a keyed hash, revocable, scoped, expiring."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.repository import ApiKeyRepository
from app.api_keys.schemas import ApiKeyCreated, ApiKeyList, ApiKeyRead
from app.audit import service as audit
from app.core.config import Settings
from app.core.errors import NotFound
from app.core.pagination import PageParams
from app.core.security import new_token, token_hash
from app.email.service import send_email
from app.identity.credentials import API_KEY_PREFIX, API_KEY_PURPOSE
from app.identity.models import ApiKey
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.identity.scopes import Scope
from app.users.repository import UserRepository
from app.workspaces import service as workspace_service

VISIBLE_PREFIX_LENGTH = 12


async def create_key(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    workspace_id: uuid.UUID,
    *,
    name: str,
    scopes: list[Scope],
    expires_in_days: int | None,
) -> ApiKeyCreated:
    ws = await workspace_service.require_workspace(
        session, principal, workspace_id, WorkspacePermission.API_KEYS_MANAGE
    )
    key = new_token(API_KEY_PREFIX)
    now = datetime.now(UTC)
    api_key = await ApiKeyRepository(session).create(
        ApiKey(
            id=uuid.uuid4(),
            workspace_id=ws,
            created_by_id=principal.user_id,
            name=name,
            prefix=key[:VISIBLE_PREFIX_LENGTH],
            key_hash=token_hash(settings.require_secret_key(), API_KEY_PURPOSE, key),
            scopes=sorted({scope.value for scope in scopes}),
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
    )
    await audit.record(
        session,
        "api_key.created",
        principal=principal,
        workspace_id=ws,
        target_type="api_key",
        target_id=api_key.id,
        details={"scopes": api_key.scopes},
    )
    await _notify_key_created(session, principal, settings)
    return ApiKeyCreated.model_validate(
        {**ApiKeyRead.model_validate(api_key).model_dump(), "key": key}
    )


async def _notify_key_created(
    session: AsyncSession, principal: Principal, settings: Settings
) -> None:
    """Security notice to the creator: a key that was not theirs is revoked within minutes.

    Names neither the key nor its prefix (a mailbox is not a secret store); links use PUBLIC_URL.
    """
    user = await UserRepository(session).get_self(principal.user_id)
    if user is None:
        return
    await send_email(
        session,
        to=user.email,
        kind="api_key_created",
        subject="A new API key was created",
        body_text="A new API key was just created in one of your Launchproof workspaces.\n"
        f"If this was not you, revoke it and change your password: {settings.public_url}/\n",
    )


async def list_keys(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, params: PageParams
) -> ApiKeyList:
    ws = await workspace_service.require_workspace(
        session, principal, workspace_id, WorkspacePermission.API_KEYS_MANAGE
    )
    page = await ApiKeyRepository(session).list_in(ws, params)
    return ApiKeyList(
        items=[ApiKeyRead.model_validate(k) for k in page.items], next_cursor=page.next_cursor
    )


async def revoke_key(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, key_id: uuid.UUID
) -> None:
    ws = await workspace_service.require_workspace(
        session, principal, workspace_id, WorkspacePermission.API_KEYS_MANAGE
    )
    api_key = await ApiKeyRepository(session).get_in(ws, key_id)
    if api_key is None:
        raise NotFound()
    if api_key.revoked_at is None:
        api_key.revoked_at = datetime.now(UTC)
        await audit.record(
            session,
            "api_key.revoked",
            principal=principal,
            workspace_id=ws,
            target_type="api_key",
            target_id=key_id,
        )
