"""Row-level security, proved in the database with the app role's own connection (C2, rule 14):
writes into, across or onto another workspace's rows are refused by the policies themselves. The
seed and the app-role sessions are in tests/rls_world.py.
"""

from __future__ import annotations

import secrets
import uuid
from asyncio import run
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, update
from sqlalchemy.sql import Executable

import app.models  # noqa: F401 - registers every mapped class
from app.identity.models import ApiKey, Workspace, WorkspaceMembership
from app.identity.permissions import Role
from app.invitations.models import Invitation
from tests.rls_world import RLS_VIOLATION, World, app_session, bind_principal, refused, world
from tests.support import Database

pytestmark = pytest.mark.checklist(
    "C2",
    red="drop a tenant table's tenant_isolation policy or its FORCE ROW LEVEL SECURITY "
    "(migrations), or give the app role ownership or BYPASSRLS",
)

# The seeded world, imported: a module-scoped fixture of tests/rls_world.py.
FIXTURES = (world,)


# --- Writes ---------------------------------------------------------------------------------


def test_writes_into_a_foreign_workspace_are_refused(db: Database, world: World) -> None:
    a, b = world.a, world.b
    foreign = b.workspace_ids[0]
    now = datetime.now(UTC)

    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, a)
            # Joining B's workspace by writing one's own membership row.
            await refused(
                session,
                insert(WorkspaceMembership).values(
                    id=uuid.uuid4(), workspace_id=foreign, user_id=a.user_id, role=Role.OWNER
                ),
                RLS_VIOLATION,
            )
            await refused(
                session,
                insert(ApiKey).values(
                    id=uuid.uuid4(),
                    workspace_id=foreign,
                    created_by_id=a.user_id,
                    name="planted",
                    prefix="lpk_x",
                    key_hash=secrets.token_bytes(32),
                    scopes=["workspace:read"],
                ),
                RLS_VIOLATION,
            )
            await refused(
                session,
                insert(Invitation).values(
                    id=uuid.uuid4(),
                    workspace_id=foreign,
                    email="planted@example.com",
                    role=Role.OWNER,
                    token_hash=secrets.token_bytes(32),
                    expires_at=now + timedelta(days=1),
                ),
                RLS_VIOLATION,
            )
            # A workspace the context does not name cannot be created either.
            await refused(
                session, insert(Workspace).values(id=uuid.uuid4(), name="rogue"), RLS_VIOLATION
            )

    run(scenario())


def test_moving_a_row_to_another_workspace_is_refused(db: Database, world: World) -> None:
    a, foreign = world.a, world.b.workspace_ids[0]

    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, a)
            for model, row_id in (
                (ApiKey, a.api_key_ids[0]),
                (Invitation, a.invitation_ids[0]),
                (WorkspaceMembership, a.membership_ids[0]),
            ):
                column: Any = model.workspace_id
                key: Any = model.id
                await refused(
                    session,
                    update(model).where(key == row_id).values({column: foreign}),
                    RLS_VIOLATION,
                )
            # Between A's own workspaces the same move is allowed: the policy, not a typo, refused.
            moved = await session.execute(
                update(ApiKey)
                .where(ApiKey.id == a.api_key_ids[0])
                .values(workspace_id=a.workspace_ids[1])
            )
            assert getattr(moved, "rowcount", None) == 1

    run(scenario())


def test_foreign_rows_cannot_be_updated_or_deleted(db: Database, world: World) -> None:
    b = world.b

    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, world.a)
            statements: list[Executable] = [
                update(Workspace).where(Workspace.id == b.workspace_ids[0]).values(name="owned"),
                update(ApiKey).where(ApiKey.id == b.api_key_ids[0]).values(revoked_at=func.now()),
                update(WorkspaceMembership)
                .where(WorkspaceMembership.id == b.membership_ids[0])
                .values(user_id=world.a.user_id),
                delete(Invitation).where(Invitation.id == b.invitation_ids[0]),
                delete(Workspace).where(Workspace.id == b.workspace_ids[0]),
            ]
            for statement in statements:
                result = await session.execute(statement)
                assert getattr(result, "rowcount", None) == 0, str(statement)

    run(scenario())
    assert db.scalar("SELECT name FROM workspace WHERE id = %s", b.workspace_ids[0]) == "b 0"
