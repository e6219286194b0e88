from __future__ import annotations

import uuid

from sqlalchemy import select

from app.core.pagination import PageParams
from app.core.repository import PageResult, Repository
from app.identity.models import ApiKey
from app.workspaces.access import AccessibleWorkspaceID


class ApiKeyRepository(Repository[ApiKey]):
    model = ApiKey

    async def list_in(
        self, workspace_id: AccessibleWorkspaceID, params: PageParams
    ) -> PageResult[ApiKey]:
        return await self.paginate(
            select(ApiKey).where(ApiKey.workspace_id == workspace_id), params
        )

    async def get_in(self, workspace_id: AccessibleWorkspaceID, key_id: uuid.UUID) -> ApiKey | None:
        return await self.get_one_or_none(
            select(ApiKey).where(ApiKey.workspace_id == workspace_id, ApiKey.id == key_id)
        )
