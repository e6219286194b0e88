"""Bots: owners and admins configure them; members chat with them; viewers read."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.bots.errors import LimitExceeded, ModelNotAllowed, SecretInPrompt
from app.bots.models import Bot
from app.bots.repository import BotRepository
from app.bots.schemas import BotCreate, BotList, BotRead, BotUpdate
from app.core.config import Settings
from app.core.errors import Forbidden, NotFound, Unprocessable
from app.core.outbound import OutboundPolicyError, normalise_allowed_domain
from app.core.pagination import PageParams
from app.core.secret_scan import find_secret_types
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.workspaces import service as workspace_service


def _check_limits(settings: Settings, *, model: str | None, max_output_tokens: int | None) -> None:
    if model is not None and model not in settings.chat_models:
        raise ModelNotAllowed(f"Choose one of: {', '.join(settings.chat_models)}.")
    if max_output_tokens is not None and max_output_tokens > settings.chat_max_output_tokens:
        raise LimitExceeded(f"max_output_tokens is at most {settings.chat_max_output_tokens}.")


def _check_domains(domains: list[str] | None) -> list[str] | None:
    """Normalise allowlist entries with the outbound guard's own rule (refused -> 422)."""
    if domains is None:
        return None
    try:
        return sorted({normalise_allowed_domain(domain) for domain in domains})
    except OutboundPolicyError:
        raise Unprocessable(
            "allowed_domains holds an entry the outbound guard refuses (bare TLD wildcard, "
            "IP address, or a wildcard that is not the leftmost label).",
            code="invalid_allowed_domain",
        ) from None


def _check_prompt(system_prompt: str | None) -> None:
    if system_prompt is not None:
        found = find_secret_types(system_prompt)
        if found:
            # The kinds are named, the value never is.
            raise SecretInPrompt(f"Remove the credential ({', '.join(found)}) from the prompt.")


async def create_bot(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    workspace_id: uuid.UUID,
    body: BotCreate,
) -> Bot:
    ws = workspace_service.require_collection(
        principal,
        workspace_id,
        WorkspacePermission.BOTS_MANAGE,
        visible_with=WorkspacePermission.BOTS_READ,
    )
    _check_limits(settings, model=body.model, max_output_tokens=body.max_output_tokens)
    _check_prompt(body.system_prompt)
    bot = await BotRepository(session).create(
        Bot(
            id=uuid.uuid4(),
            workspace_id=ws,
            created_by_id=principal.user_id,
            name=body.name,
            system_prompt=body.system_prompt,
            model=body.model,
            temperature=body.temperature,
            max_output_tokens=body.max_output_tokens,
            tools=sorted({tool.value for tool in body.tools}),
            allowed_domains=_check_domains(body.allowed_domains) or [],
        )
    )
    await audit.record(
        session,
        "bot.created",
        principal=principal,
        workspace_id=ws,
        target_type="bot",
        target_id=bot.id,
        details={"tools": bot.tools},
    )
    return bot


async def list_bots(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, params: PageParams
) -> BotList:
    ws = workspace_service.require_collection(
        principal,
        workspace_id,
        WorkspacePermission.BOTS_READ,
        visible_with=WorkspacePermission.BOTS_READ,
    )
    page = await BotRepository(session).list_in(principal, ws, params)
    return BotList(
        items=[BotRead.model_validate(b) for b in page.items], next_cursor=page.next_cursor
    )


async def get_bot(session: AsyncSession, principal: Principal, bot_id: uuid.UUID) -> Bot:
    """A bot the caller may read; another workspace's bot is simply not found."""
    bot = await BotRepository(session).get_readable(principal, bot_id)
    if bot is None:
        raise NotFound()
    return bot


async def update_bot(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    bot_id: uuid.UUID,
    body: BotUpdate,
) -> Bot:
    bot = await get_bot(session, principal, bot_id)
    if not principal.can(bot.workspace_id, WorkspacePermission.BOTS_MANAGE):
        raise Forbidden("Only owners and admins change bots.")
    _check_limits(settings, model=body.model, max_output_tokens=body.max_output_tokens)
    _check_prompt(body.system_prompt)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if "tools" in changes:
        changes["tools"] = sorted({str(tool) for tool in changes["tools"]})
    if "allowed_domains" in changes:
        changes["allowed_domains"] = _check_domains(changes["allowed_domains"])
    for field, value in changes.items():
        setattr(bot, field, value)
    await session.flush()
    await audit.record(
        session,
        "bot.updated",
        principal=principal,
        workspace_id=bot.workspace_id,
        target_type="bot",
        target_id=bot.id,
        details={"fields": sorted(changes)},
    )
    return bot


async def delete_bot(session: AsyncSession, principal: Principal, bot_id: uuid.UUID) -> None:
    bot = await get_bot(session, principal, bot_id)
    if not principal.can(bot.workspace_id, WorkspacePermission.BOTS_MANAGE):
        raise Forbidden("Only owners and admins delete bots.")
    await BotRepository(session).delete(bot)
    await audit.record(
        session,
        "bot.deleted",
        principal=principal,
        workspace_id=bot.workspace_id,
        target_type="bot",
        target_id=bot_id,
    )
