from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.core.repository import Repository
from app.usage.models import WorkspaceUsage
from app.workspaces.access import AccessibleWorkspaceID


class UsageRepository(Repository[WorkspaceUsage]):
    model = WorkspaceUsage

    async def spent(self, workspace_id: AccessibleWorkspaceID, day: date) -> int:
        statement = select(
            func.coalesce(WorkspaceUsage.prompt_tokens + WorkspaceUsage.completion_tokens, 0)
        ).where(WorkspaceUsage.workspace_id == workspace_id, WorkspaceUsage.day == day)
        value = (await self.session.execute(statement)).scalar_one_or_none()
        return int(value or 0)

    async def add(
        self, workspace_id: AccessibleWorkspaceID, day: date, *, prompt: int, completion: int
    ) -> None:
        """Atomic upsert: concurrent turns of one workspace add up, never overwrite."""
        statement = insert(WorkspaceUsage).values(
            workspace_id=workspace_id, day=day, prompt_tokens=prompt, completion_tokens=completion
        )
        statement = statement.on_conflict_do_update(
            index_elements=[WorkspaceUsage.workspace_id, WorkspaceUsage.day],
            set_={
                "prompt_tokens": WorkspaceUsage.prompt_tokens + statement.excluded.prompt_tokens,
                "completion_tokens": WorkspaceUsage.completion_tokens
                + statement.excluded.completion_tokens,
                "updated_at": func.now(),
            },
        )
        await self.session.execute(statement)
