from __future__ import annotations

import uuid

from sqlalchemy import func, select, update

from app.core.pagination import PageParams
from app.core.repository import PageResult, Repository
from app.identity.models import User
from app.identity.snapshot import AUTHENTICATED_USER, AuthenticatedUser


class UserRepository(Repository[User]):
    """Users are platform rows, not tenant rows: lookups are by the caller's own id, by e-mail
    during authentication, or by staff. Workspace-scoped views of users (member lists) are in
    the workspace repository and join through memberships."""

    model = User

    async def get_by_email(self, email: str) -> User | None:
        return await self.get_one_or_none(select(User).where(User.email == email))

    async def get_self(self, user_id: uuid.UUID) -> User | None:
        """The caller's own row as an entity, for changes to it."""
        return await self.get_one_or_none(select(User).where(User.id == user_id))

    async def read_self(self, user_id: uuid.UUID) -> User | AuthenticatedUser | None:
        """The caller's own row, read-only.

        Session authentication already read it in this request's transaction
        (``AUTHENTICATED_USER``): reuse that instead of a second SELECT (docs/performance.md).
        """
        authenticated = self.session.info.get(AUTHENTICATED_USER)
        if isinstance(authenticated, AuthenticatedUser) and authenticated.id == user_id:
            return authenticated
        return await self.get_self(user_id)

    async def staff_get(self, user_id: uuid.UUID) -> User | None:
        """Staff-only lookup (callers hold a ``StaffPrincipal``)."""
        return await self.get_one_or_none(select(User).where(User.id == user_id))

    async def staff_list(self, params: PageParams, *, email_prefix: str | None) -> PageResult[User]:
        statement = select(User)
        if email_prefix:
            escaped = email_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(User.email.like(f"{escaped}%", escape="\\"))
        return await self.paginate(statement, params)

    async def set_password(self, user_id: uuid.UUID, password_hash: str, *, changed: bool) -> None:
        values: dict[str, object] = {"password_hash": password_hash}
        if changed:
            values["password_changed_at"] = func.now()
        await self.session.execute(update(User).where(User.id == user_id).values(**values))
