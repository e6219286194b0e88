"""Row-level security, proved in the database with the app role's own connection (C2, rule 14):
a credential's hash reveals exactly its own row, and the principal context lives for one
transaction only. The seed and the app-role sessions are in tests/rls_world.py.
"""

from __future__ import annotations

import secrets
import uuid
from asyncio import run
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from sqlalchemy import func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import app.models  # noqa: F401 - registers every mapped class
from app.core.config import Settings
from app.core.db import create_engine
from app.core.security import token_hash
from app.identity.credentials import (
    API_KEY_PURPOSE,
    principal_from_api_key,
    principal_from_session,
)
from app.identity.models import ApiKey, Workspace, WorkspaceMembership
from app.identity.repository import PrincipalContextRepository
from app.invitations.models import Invitation
from app.invitations.repository import InvitationRepository
from tests.rls_world import (
    SECRET,
    SEEDED_MODELS,
    SETTINGS,
    World,
    app_session,
    bind_principal,
    set_credential,
    setting,
    visible_ids,
    world,
)
from tests.support import Database

# --- Credential capability ------------------------------------------------------------------


def test_credential_hash_reveals_exactly_its_own_row(db: Database, world: World) -> None:
    b = world.b

    async def scenario() -> None:
        async with app_session(db) as session:
            await set_credential(session, b.api_key_hashes[0])
            assert await visible_ids(session, ApiKey) == {b.api_key_ids[0]}
            assert await visible_ids(session, Invitation) == set()
            assert await visible_ids(session, Workspace) == set()
            # Seeing is not owning: the capability is read-only.
            result = await session.execute(
                update(ApiKey).where(ApiKey.id == b.api_key_ids[0]).values(name="hijacked")
            )
            assert getattr(result, "rowcount", None) == 0

            await set_credential(session, b.invitation_hashes[0])
            assert await visible_ids(session, Invitation) == {b.invitation_ids[0]}
            assert await visible_ids(session, ApiKey) == set()

            await set_credential(session, secrets.token_bytes(32))
            assert await visible_ids(session, ApiKey) == set()
            assert await visible_ids(session, Invitation) == set()

    run(scenario())


def test_credential_lookups_find_their_row_and_clear_the_capability(
    db: Database, world: World
) -> None:
    b = world.b
    now = datetime.now(UTC)

    async def scenario() -> None:
        async with app_session(db) as session:
            found = await PrincipalContextRepository(session).authenticate_api_key(
                b.api_key_hashes[0], now
            )
            assert found is not None
            assert found[0].id == b.api_key_ids[0]
            assert found[2].roles, "the key's creator is bound in the key's workspace"
            assert await setting(session, "app.credential_hash") == ""
            # The binding shows B's keys through the workspace policy; without it, the spent
            # capability must show nothing (it was cleared inside the same call).
            await session.execute(select(func.set_config("app.workspace_ids", "", True)))
            assert await visible_ids(session, ApiKey) == set()

            invitation = await InvitationRepository(session).get_by_token_hash(
                b.invitation_hashes[0], now
            )
            assert invitation is not None
            assert invitation.id == b.invitation_ids[0]
            assert await setting(session, "app.credential_hash") == ""
            assert await visible_ids(session, Invitation) == set()

            unknown = await PrincipalContextRepository(session).authenticate_api_key(
                secrets.token_bytes(32), now
            )
            assert unknown is None

    run(scenario())


# --- Transaction-local context --------------------------------------------------------------

CONTEXT_SETTINGS = (
    "app.user_id",
    "app.membership_probe",
    "app.workspace_ids",
    "app.is_staff",
    "app.credential_hash",
)

pytestmark = pytest.mark.checklist(
    "C2",
    red="drop a tenant table's tenant_isolation policy or its FORCE ROW LEVEL SECURITY "
    "(migrations), or give the app role ownership or BYPASSRLS",
)

# The seeded world, imported: a module-scoped fixture of tests/rls_world.py.
FIXTURES = (world,)


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_context_does_not_survive_the_transaction(db: Database, world: World, end: str) -> None:
    """On the app's own pooled engine, the next transaction on the same connection sees nothing."""

    async def scenario() -> None:
        engine = create_engine(Settings(database_url=SecretStr(db.app), database_pool_size=1))
        try:
            async with AsyncSession(engine) as session:
                await bind_principal(session, world.a)
                await set_credential(session, world.b.api_key_hashes[0])
                pid = (await session.execute(select(func.pg_backend_pid()))).scalar_one()
                assert await setting(session, "app.workspace_ids")
                await (session.commit() if end == "commit" else session.rollback())
            async with AsyncSession(engine) as session:
                same = (await session.execute(select(func.pg_backend_pid()))).scalar_one()
                assert same == pid, "the pool handed out another connection"
                for name in CONTEXT_SETTINGS:
                    assert await setting(session, name) in (None, ""), name
                for model in SEEDED_MODELS:
                    assert await visible_ids(session, model) == set()
                await session.rollback()
        finally:
            await engine.dispose()

    run(scenario())


def test_session_lookup_binds_nothing_for_an_unknown_token(db: Database, world: World) -> None:
    async def scenario() -> None:
        async with app_session(db) as session:
            assert await principal_from_session(session, SETTINGS, "not-a-session") is None
            for name in CONTEXT_SETTINGS:
                assert await setting(session, name) in (None, ""), name
            assert (await session.execute(select(literal(1)))).scalar_one() == 1

    run(scenario())


def test_api_key_transaction_sees_only_its_own_workspace(db: Database, world: World) -> None:
    """A key of a creator with two workspaces: the database shows the key one, not both.

    The membership self policy (``user_id = app_membership_probe()``) lets authentication read
    the creator's membership; the binding statement clears the probe, so the creator's other
    memberships stay invisible for the rest of the transaction.
    """
    key = "lpk_" + secrets.token_urlsafe(32)
    key_workspace = world.a.workspace_ids[0]
    with db.connect() as conn:
        conn.execute(
            "INSERT INTO api_key (id, workspace_id, created_by_id, name, prefix, key_hash, scopes)"
            " VALUES (%s, %s, %s, 'rls key', 'lpk_rls', %s, ARRAY['workspace:read'])",
            (
                uuid.uuid4(),
                key_workspace,
                world.a.user_id,
                token_hash(SECRET.encode(), API_KEY_PURPOSE, key),
            ),
        )

    async def scenario() -> None:
        async with app_session(db) as session:
            principal = await principal_from_api_key(session, SETTINGS, key)
            assert principal is not None
            assert set(principal.roles) == {key_workspace}
            assert await visible_ids(session, Workspace) == {key_workspace}
            memberships = (await session.scalars(select(WorkspaceMembership))).all()
            assert {m.workspace_id for m in memberships} == {key_workspace}
            assert await setting(session, "app.membership_probe") in ("", None)
            assert await setting(session, "app.user_id") == str(world.a.user_id)

    run(scenario())
