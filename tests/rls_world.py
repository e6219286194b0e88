"""The world the row-level security tests run in: two tenants and a staff user seeded as the
superuser (committed; random ids keep them apart from every other test), and app-role sessions
that bind the principal context exactly as the app does and always roll back.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import Executable

import app.models  # noqa: F401 - registers every mapped class
from app.core.config import Settings
from app.core.db import async_url
from app.core.models import Base, TenantMixin
from app.core.security import token_hash
from app.identity.credentials import (
    SESSION_PURPOSE,
    principal_from_session,
)
from app.identity.models import ApiKey, Workspace, WorkspaceMembership
from app.identity.principal import Principal
from app.invitations.models import Invitation
from tests.support import Database

SECRET = secrets.token_hex(32)
SETTINGS = Settings(secret_key=SecretStr(SECRET))
RLS_VIOLATION = "new row violates row-level security policy"
PERMISSION_DENIED = "permission denied"

MAPPED: list[type[Base]] = [mapper.class_ for mapper in Base.registry.mappers]
TENANT_MODELS = sorted(
    (model for model in MAPPED if issubclass(model, TenantMixin)), key=lambda m: m.__name__
)
SEEDED_MODELS: tuple[type[Base], ...] = (Workspace, WorkspaceMembership, Invitation, ApiKey)


def tenant_column(model: type[Base]) -> str:
    return str(getattr(model, "__tenant_column__", "workspace_id"))


def table_name(model: type[Base]) -> str:
    return str(model.__table__.name)  # type: ignore[attr-defined]


# --- Seed data (superuser, committed; random ids keep it apart from every other test) ----------


@dataclass(frozen=True)
class Tenant:
    user_id: uuid.UUID
    session_token: str
    workspace_ids: tuple[uuid.UUID, ...]
    membership_ids: tuple[uuid.UUID, ...]
    invitation_ids: tuple[uuid.UUID, ...]
    invitation_hashes: tuple[bytes, ...]
    api_key_ids: tuple[uuid.UUID, ...]
    api_key_hashes: tuple[bytes, ...]

    def expected_ids(self, model: type[Base]) -> set[uuid.UUID]:
        return set(
            {
                Workspace: self.workspace_ids,
                WorkspaceMembership: self.membership_ids,
                Invitation: self.invitation_ids,
                ApiKey: self.api_key_ids,
            }[model]
        )


@dataclass(frozen=True)
class World:
    a: Tenant
    b: Tenant
    staff: Tenant
    audit_event_id: uuid.UUID


def _seed_tenant(db: Database, label: str, workspaces: int, *, staff: bool = False) -> Tenant:
    now = datetime.now(UTC)
    user_id = uuid.uuid4()
    token = secrets.token_urlsafe(32)
    ws_ids: list[uuid.UUID] = []
    member_ids: list[uuid.UUID] = []
    inv_ids: list[uuid.UUID] = []
    key_ids: list[uuid.UUID] = []
    inv_hashes: list[bytes] = []
    key_hashes: list[bytes] = []
    with db.connect() as conn, conn.transaction():
        conn.execute(
            "INSERT INTO user_account (id, email, password_hash, is_staff, email_verified_at)"
            " VALUES (%s, %s, 'not-a-hash', %s, %s)",
            (user_id, f"rls-{label}-{user_id.hex[:12]}@example.com", staff, now),
        )
        conn.execute(
            "INSERT INTO user_session (id, user_id, token_hash, last_seen_at, idle_expires_at,"
            " absolute_expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                uuid.uuid4(),
                user_id,
                token_hash(SECRET.encode(), SESSION_PURPOSE, token),
                now,
                now + timedelta(hours=1),
                now + timedelta(days=1),
            ),
        )
        for index in range(workspaces):
            ws, member, inv, key = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            inv_hash, key_hash = secrets.token_bytes(32), secrets.token_bytes(32)
            conn.execute(
                "INSERT INTO workspace (id, name) VALUES (%s, %s)", (ws, f"{label} {index}")
            )
            conn.execute(
                "INSERT INTO workspace_membership (id, workspace_id, user_id, role)"
                " VALUES (%s, %s, %s, 'owner'::workspace_role)",
                (member, ws, user_id),
            )
            conn.execute(
                "INSERT INTO invitation (id, workspace_id, email, role, token_hash,"
                " invited_by_id, expires_at) VALUES (%s, %s, %s, 'member'::workspace_role,"
                " %s, %s, %s)",
                (
                    inv,
                    ws,
                    f"invitee-{inv.hex[:12]}@example.com",
                    inv_hash,
                    user_id,
                    now + timedelta(days=1),
                ),
            )
            conn.execute(
                "INSERT INTO api_key (id, workspace_id, created_by_id, name, prefix, key_hash,"
                " scopes) VALUES (%s, %s, %s, %s, 'lpk_test', %s, ARRAY['workspace:read'])",
                (key, ws, user_id, f"{label} key", key_hash),
            )
            ws_ids.append(ws)
            member_ids.append(member)
            inv_ids.append(inv)
            inv_hashes.append(inv_hash)
            key_ids.append(key)
            key_hashes.append(key_hash)
    return Tenant(
        user_id=user_id,
        session_token=token,
        workspace_ids=tuple(ws_ids),
        membership_ids=tuple(member_ids),
        invitation_ids=tuple(inv_ids),
        invitation_hashes=tuple(inv_hashes),
        api_key_ids=tuple(key_ids),
        api_key_hashes=tuple(key_hashes),
    )


@pytest.fixture(scope="module")
def world(db: Database) -> World:
    """Tenant A (two workspaces), tenant B (one) and a staff user, each with every tenant row."""
    audit_id = uuid.uuid4()
    db.scalar(
        "INSERT INTO audit_event (id, action, outcome, details) "
        "VALUES (%s, 'test.rls_seed', 'success', '{}') RETURNING id",
        audit_id,
    )
    return World(
        a=_seed_tenant(db, "a", 2),
        b=_seed_tenant(db, "b", 1),
        staff=_seed_tenant(db, "staff", 0, staff=True),
        audit_event_id=audit_id,
    )


# --- App-role sessions ----------------------------------------------------------------------


@asynccontextmanager
async def app_session(db: Database) -> AsyncIterator[AsyncSession]:
    """An app-role session in one transaction that is always rolled back."""
    engine: AsyncEngine = create_async_engine(async_url(db.app), poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False, autoflush=False) as session:
            try:
                yield session
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


async def bind_principal(session: AsyncSession, tenant: Tenant) -> Principal:
    """Authenticate and bind the RLS context the way every request does."""
    principal = await principal_from_session(session, SETTINGS, tenant.session_token)
    assert principal is not None
    assert set(principal.roles) == set(tenant.workspace_ids)
    return principal


async def visible_ids(session: AsyncSession, model: type[Base]) -> set[uuid.UUID]:
    """Every row of ``model`` this transaction can see: no WHERE clause at all."""
    rows = (await session.scalars(select(model))).all()
    return {row.id for row in rows}  # type: ignore[attr-defined]


async def refused(session: AsyncSession, statement: Executable | str, message: str) -> None:
    """``statement`` fails with ``message``; the savepoint keeps the transaction usable."""
    if isinstance(statement, str):
        statement = text(statement)
    with pytest.raises(DBAPIError, match=message):
        async with session.begin_nested():
            await session.execute(statement)


async def setting(session: AsyncSession, name: str) -> str | None:
    value = (await session.execute(select(func.current_setting(name, True)))).scalar_one()
    return None if value is None else str(value)


async def set_credential(session: AsyncSession, credential_hash: bytes) -> None:
    await session.execute(
        select(func.set_config("app.credential_hash", credential_hash.hex(), True))
    )
