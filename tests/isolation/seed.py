"""Two tenants with rows in *every* tenant table, for the two one-layer-at-a-time proofs of C2.

Each tenant is one workspace with an owner and a member. Both users have a private conversation
with the workspace's bot (a user message, its streaming reply, a tool call, a note, an attached
file); the workspace has an API key, an invitation, a usage row, a reservation, a webhook
endpoint with a delivery and an attempt. Seeded as the superuser (the judge), committed, random
ids: other tests in the same database never meet these rows.

``TENANT_TABLES`` comes from the mapped ``TenantMixin`` models, and ``seed_tenant`` fails for a
tenant table it wrote no row into: a new tenant table must be seeded here before either proof
can pass.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Table, create_engine, func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

import app.models  # noqa: F401 - registers every mapped class
from app.bots.models import Bot
from app.conversations.models import Conversation, Message, MessageRole, MessageStatus
from app.core.config import Settings
from app.core.models import Base, TenantMixin
from app.core.security import token_hash
from app.files.models import File, FileStatus, MessageFile
from app.identity.credentials import SESSION_PURPOSE
from app.identity.models import ApiKey, Workspace, WorkspaceMembership
from app.identity.permissions import Role
from app.invitations.models import Invitation
from app.tools.models import Note, ToolCall
from app.usage.models import UsageReservation, WorkspaceUsage
from app.webhooks.outbound.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)
from tests.support import Database

SECRET = secrets.token_hex(32)
SETTINGS = Settings(secret_key=SecretStr(SECRET))
EVENT = "member.added"
SEARCH_WORD = "isolation-seed"

MAPPED: list[type[Base]] = [mapper.class_ for mapper in Base.registry.mappers]
TENANT_MODELS: list[type[Base]] = sorted(
    (model for model in MAPPED if issubclass(model, TenantMixin)), key=lambda m: m.__name__
)


def table_of(model: type[Base]) -> Table:
    table: Table = model.__table__  # type: ignore[assignment]
    return table


def tenant_column(model: type[Base]) -> str:
    return str(getattr(model, "__tenant_column__", "workspace_id"))


def private_to_user(model: type[Base]) -> bool:
    return bool(getattr(model, "__private_to_user__", False))


TENANT_TABLES = {table_of(model).name: model for model in TENANT_MODELS}


@dataclass(frozen=True)
class Person:
    """One user of a tenant and that user's private rows."""

    user_id: uuid.UUID
    email: str
    session_token: str
    conversation_id: uuid.UUID
    message_id: uuid.UUID  # the user message (complete, with an idempotency key)
    reply_id: uuid.UUID  # its assistant reply, still streaming
    idempotency_key: str
    tool_call_id: uuid.UUID
    note_id: uuid.UUID
    file_id: uuid.UUID  # attached to ``message_id``


@dataclass(frozen=True)
class Tenant:
    label: str
    workspace_id: uuid.UUID
    owner: Person
    member: Person
    bot_id: uuid.UUID
    api_key_id: uuid.UUID
    invitation_id: uuid.UUID
    invitation_hash: bytes
    invitation_email: str
    endpoint_id: uuid.UUID
    delivery_id: uuid.UUID
    attempt_id: uuid.UUID
    reservation_message_id: uuid.UUID
    usage_day: date
    tokens_spent: int


@dataclass(frozen=True)
class World:
    a: Tenant
    b: Tenant
    # A's member once belonged to B and chatted there; B removed them, the conversation stayed
    # (removal keeps a member's conversations). Still their user id, no longer their workspace:
    # only the workspace condition (repository filter, RLS policy) keeps it from them.
    left_behind: tuple[uuid.UUID, uuid.UUID]  # (conversation id, message id) in B


@contextmanager
def superuser_session(db: Database) -> Iterator[Session]:
    url = make_url(db.admin).set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    try:
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _user(session: Session, label: str) -> tuple[uuid.UUID, str, str]:
    """A verified user with a live session; platform rows, written as plain SQL."""
    user_id, token = uuid.uuid4(), secrets.token_urlsafe(32)
    email = f"iso-{label}-{user_id.hex[:12]}@example.com"
    now = datetime.now(UTC)
    connection = session.connection().connection.driver_connection
    assert connection is not None
    connection.execute(
        "INSERT INTO user_account (id, email, password_hash, is_staff, email_verified_at)"
        " VALUES (%s, %s, 'not-a-hash', false, %s)",
        (user_id, email, now),
    )
    connection.execute(
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
    return user_id, email, token


def _person(session: Session, label: str, workspace_id: uuid.UUID, bot_id: uuid.UUID) -> Person:
    user_id, email, token = _user(session, label)
    ids = [uuid.uuid4() for _ in range(6)]
    conversation_id, message_id, reply_id, call_id, note_id, file_id = ids
    key = f"idem-{secrets.token_hex(6)}"
    text = f"{label}: {SEARCH_WORD} private plans"
    session.add_all(
        [
            Conversation(
                id=conversation_id,
                workspace_id=workspace_id,
                bot_id=bot_id,
                user_id=user_id,
                title=f"{label}'s plans",
            ),
        ]
    )
    session.flush()
    session.add(
        Message(
            id=message_id,
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            user_id=user_id,
            role=MessageRole.USER,
            content=text,
            status=MessageStatus.COMPLETE,
            idempotency_key=key,
        )
    )
    session.flush()
    session.add_all(
        [
            Message(
                id=reply_id,
                workspace_id=workspace_id,
                conversation_id=conversation_id,
                user_id=user_id,
                role=MessageRole.ASSISTANT,
                content=f"{text} (answer)",
                status=MessageStatus.STREAMING,
                reply_to_id=message_id,
                model="stub",
            ),
            File(
                id=file_id,
                workspace_id=workspace_id,
                uploaded_by_id=user_id,
                display_name=f"{label}.txt",
                content_type="text/plain",
                size_bytes=100,
                sha256="0" * 64,
                storage_key=f"{workspace_id}/{file_id}",
                status=FileStatus.CLEAN,
                scan_engine="disabled",
            ),
            Note(
                id=note_id,
                workspace_id=workspace_id,
                created_by_id=user_id,
                conversation_id=conversation_id,
                title=f"{label}'s note",
                body=text,
            ),
        ]
    )
    session.flush()
    session.add_all(
        [
            ToolCall(
                id=call_id,
                workspace_id=workspace_id,
                conversation_id=conversation_id,
                message_id=reply_id,
                user_id=user_id,
                tool="create_note",
                arguments={"title": label},
                outcome="ok",
            ),
            MessageFile(message_id=message_id, file_id=file_id, workspace_id=workspace_id),
        ]
    )
    return Person(
        user_id=user_id, email=email, session_token=token, conversation_id=conversation_id,
        message_id=message_id, reply_id=reply_id, idempotency_key=key, tool_call_id=call_id,
        note_id=note_id, file_id=file_id,
    )  # fmt: skip


def seed_tenant(db: Database, label: str, tokens_spent: int) -> Tenant:
    """One workspace with a row in every tenant table; fails if a tenant table got none."""
    ws, bot_id, key_id, inv_id, endpoint_id, delivery_id, attempt_id, reservation = (
        uuid.uuid4() for _ in range(8)
    )
    inv_hash, today, now = secrets.token_bytes(32), datetime.now(UTC).date(), datetime.now(UTC)
    inv_email = f"iso-invitee-{inv_id.hex[:12]}@example.com"
    with superuser_session(db) as session:
        session.add(Workspace(id=ws, name=f"{label}'s studio"))
        session.flush()
        session.add(
            Bot(
                id=bot_id, workspace_id=ws, name=f"{label} bot", system_prompt="Be brief.",
                model="stub", temperature=0.0, max_output_tokens=100, tools=["create_note"],
                allowed_domains=[],
            )
        )  # fmt: skip
        session.flush()
        owner = _person(session, f"{label}-owner", ws, bot_id)
        member = _person(session, f"{label}-member", ws, bot_id)
        session.add_all(
            [
                WorkspaceMembership(workspace_id=ws, user_id=owner.user_id, role=Role.OWNER),
                WorkspaceMembership(workspace_id=ws, user_id=member.user_id, role=Role.MEMBER),
                ApiKey(
                    id=key_id, workspace_id=ws, created_by_id=owner.user_id, name=f"{label} key",
                    prefix="lpk_iso", key_hash=secrets.token_bytes(32), scopes=["workspace:read"],
                ),
                Invitation(
                    id=inv_id, workspace_id=ws, email=inv_email, role=Role.MEMBER,
                    token_hash=inv_hash, invited_by_id=owner.user_id,
                    expires_at=now + timedelta(days=1),
                ),
                WorkspaceUsage(
                    workspace_id=ws, day=today, prompt_tokens=tokens_spent, completion_tokens=0,
                    reserved_tokens=7,
                ),
                UsageReservation(
                    message_id=reservation, workspace_id=ws, day=today, reserved_tokens=7,
                    prompt_estimate=3,
                ),
                WebhookEndpoint(
                    id=endpoint_id, workspace_id=ws, created_by_id=owner.user_id,
                    url="http://127.0.0.2:9/hook", event_types=[EVENT],
                    secret_encrypted=b"not-a-secret",
                ),
            ]
        )  # fmt: skip
        session.flush()
        session.add(
            WebhookDelivery(
                id=delivery_id, workspace_id=ws, endpoint_id=endpoint_id, event_type=EVENT,
                payload="{}", status=DeliveryStatus.FAILED, attempts=1,
            )
        )  # fmt: skip
        session.flush()
        session.add(
            WebhookDeliveryAttempt(
                id=attempt_id, workspace_id=ws, delivery_id=delivery_id, status_code=500,
                outcome="http_error", duration_ms=5,
            )
        )  # fmt: skip
        session.flush()
        for name, model in TENANT_TABLES.items():
            column = table_of(model).c[tenant_column(model)]
            count = session.scalar(select(func.count()).where(column == ws))
            assert count, f"{name}: a tenant table this seed writes no row into: seed it here"
    return Tenant(
        label=label, workspace_id=ws, owner=owner, member=member, bot_id=bot_id,
        api_key_id=key_id, invitation_id=inv_id, invitation_hash=inv_hash,
        invitation_email=inv_email, endpoint_id=endpoint_id, delivery_id=delivery_id,
        attempt_id=attempt_id, reservation_message_id=reservation, usage_day=today,
        tokens_spent=tokens_spent,
    )  # fmt: skip


def seed_world(db: Database) -> World:
    a, b = seed_tenant(db, "a", 15), seed_tenant(db, "b", 1000)
    conversation_id, message_id = uuid.uuid4(), uuid.uuid4()
    with superuser_session(db) as session:
        session.add(
            Conversation(
                id=conversation_id, workspace_id=b.workspace_id, bot_id=b.bot_id,
                user_id=a.member.user_id, title="from before I left",
            )
        )  # fmt: skip
        session.flush()
        session.add(
            Message(
                id=message_id, workspace_id=b.workspace_id, conversation_id=conversation_id,
                user_id=a.member.user_id, role=MessageRole.USER, content=f"{SEARCH_WORD} old",
                status=MessageStatus.COMPLETE,
            )
        )  # fmt: skip
    return World(a=a, b=b, left_behind=(conversation_id, message_id))


def rows_of(
    conn: Connection, model: type[Base], workspace_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> list[tuple[Any, ...]]:
    """Every row of ``model`` in the workspace (of ``user_id`` only, if given), sorted."""
    table = table_of(model)
    statement = select(table).where(table.c[tenant_column(model)] == workspace_id)
    if user_id is not None:
        statement = statement.where(table.c.user_id == user_id)
    return sorted((tuple(row) for row in conn.execute(statement).all()), key=repr)
