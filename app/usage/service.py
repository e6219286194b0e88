"""The per-workspace daily model-token budget (the spend cap of checklist row C6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import RateLimited
from app.core.metrics import MODEL_TOKENS, workspace_bucket
from app.usage.repository import UsageRepository
from app.workspaces.access import AccessibleWorkspaceID


class BudgetExhausted(RateLimited):
    code = "token_budget_exhausted"
    title = "This workspace has used today's model budget"


def _seconds_to_midnight(now: datetime) -> int:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((tomorrow - now).total_seconds()) + 1


async def ensure_budget(
    session: AsyncSession, settings: Settings, workspace_id: AccessibleWorkspaceID
) -> None:
    """429 with Retry-After (until UTC midnight) once today's tokens reach the budget."""
    now = datetime.now(UTC)
    spent = await UsageRepository(session).spent(workspace_id, now.date())
    if spent >= settings.chat_daily_token_budget:
        raise BudgetExhausted(_seconds_to_midnight(now), "Try again tomorrow (UTC).")


async def record_usage(
    session: AsyncSession, workspace_id: AccessibleWorkspaceID, *, prompt: int, completion: int
) -> None:
    await UsageRepository(session).add(
        workspace_id, datetime.now(UTC).date(), prompt=prompt, completion=completion
    )
    bucket = workspace_bucket(workspace_id)
    MODEL_TOKENS.labels(kind="prompt", workspace_bucket=bucket).inc(prompt)
    MODEL_TOKENS.labels(kind="completion", workspace_bucket=bucket).inc(completion)
