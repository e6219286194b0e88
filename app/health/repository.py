from __future__ import annotations

from sqlalchemy import literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession


class DatabaseProbe:
    """Readiness and role-safety checks (the only raw SQL outside domain repositories)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ping(self) -> None:
        await self.session.execute(select(literal(1)))

    async def role_problems(self) -> list[str]:
        """Why the connected role must not serve requests: it bypasses or owns RLS."""
        row = (
            await self.session.execute(
                text(
                    "SELECT r.rolsuper, r.rolbypassrls,"
                    " (SELECT count(*) FROM pg_class c"
                    "  JOIN pg_namespace n ON n.oid = c.relnamespace"
                    "  WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                    "  AND pg_has_role(current_user, c.relowner, 'USAGE')) AS owned"
                    " FROM pg_roles r WHERE r.rolname = current_user"
                )
            )
        ).one()
        problems = []
        if row.rolsuper:
            problems.append("DATABASE_URL connects as a superuser")
        if row.rolbypassrls:
            problems.append("DATABASE_URL connects as a role with BYPASSRLS")
        if row.owned:
            problems.append("DATABASE_URL connects as a table owner (or a member of its role)")
        return problems
