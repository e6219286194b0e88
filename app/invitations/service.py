"""Invitations: bound to one e-mail address, single-use, expiring, stored as a keyed hash."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.errors import InvalidToken
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden
from app.core.security import new_token, token_hash, token_hashes
from app.email.service import send_email
from app.identity.models import WorkspaceMembership
from app.identity.permissions import Role, WorkspacePermission
from app.identity.principal import Principal
from app.identity.repository import PrincipalContextRepository
from app.invitations.models import Invitation
from app.invitations.repository import InvitationRepository
from app.webhooks.events import EventType, emit_event
from app.workspaces import service as workspace_service
from app.workspaces.policies import can_grant_role
from app.workspaces.repository import MembershipRepository, WorkspaceRepository
from app.workspaces.schemas import WorkspaceRead

PURPOSE = "invitation"


async def invite(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    workspace_id: uuid.UUID,
    *,
    email: str,
    role: Role,
) -> Invitation:
    """Invite an address with a role; owners invite any role, admins up to admin."""
    ws = await workspace_service.require_workspace(
        session, principal, workspace_id, WorkspacePermission.MEMBERS_INVITE
    )
    if not can_grant_role(principal, ws, role):
        raise Forbidden("Only owners can invite owners.")
    if await MembershipRepository(session).is_member(ws, email):
        raise Conflict("This address is already a member.", code="already_member")
    now = datetime.now(UTC)
    repo = InvitationRepository(session)
    await repo.supersede(ws, email, now)
    token = new_token()
    invitation = await repo.create(
        Invitation(
            id=uuid.uuid4(),
            workspace_id=ws,
            email=email,
            role=role,
            token_hash=token_hash(settings.require_secret_key(), PURPOSE, token),
            invited_by_id=principal.user_id,
            expires_at=now + timedelta(seconds=settings.invitation_ttl_seconds),
        )
    )
    await send_email(
        session,
        to=email,
        kind="invitation",
        subject="You are invited to a Launchproof workspace",
        body_text=f"Accept the invitation: {settings.public_url}/invitations#token={token}\n",
    )
    await audit.record(
        session,
        "member.invited",
        principal=principal,
        workspace_id=ws,
        target_type="invitation",
        target_id=invitation.id,
        details={"role": role.value},
    )
    return invitation


async def accept(
    session: AsyncSession, principal: Principal, settings: Settings, *, token: str
) -> WorkspaceRead:
    """Join the workspace. The caller's verified e-mail must be the invited address; every
    mismatch (unknown, used, expired, other address) is the same ``invalid_token``."""
    now = datetime.now(UTC)
    # Each key of the SECRET_KEY ring in turn: a link mailed before a rotation still works.
    invitation = None
    for candidate in token_hashes(settings.secret_key_ring(), PURPOSE, token):
        invitation = await InvitationRepository(session).get_by_token_hash(candidate, now)
        if invitation is not None:
            break
    if invitation is None or invitation.email != principal.email or not principal.email_verified:
        raise InvalidToken()
    if invitation.workspace_id in principal.roles:
        raise Conflict("You are already a member.", code="already_member")
    await PrincipalContextRepository(session).extend_workspace_context(
        list(principal.roles), invitation.workspace_id
    )
    if not await InvitationRepository(session).mark_accepted(invitation.id, now):
        raise InvalidToken()
    membership = await MembershipRepository(session).create(
        WorkspaceMembership(
            id=uuid.uuid4(),
            workspace_id=invitation.workspace_id,
            user_id=principal.user_id,
            role=invitation.role,
        )
    )
    await emit_event(
        session,
        workspace_id=invitation.workspace_id,
        event_type=EventType.MEMBER_ADDED,
        data={
            "membership_id": membership.id,
            "user_id": principal.user_id,
            "role": invitation.role.value,
        },
    )
    joined = replace(principal, roles={**principal.roles, invitation.workspace_id: invitation.role})
    workspace = await WorkspaceRepository(session).get_readable(joined, invitation.workspace_id)
    assert workspace is not None
    await audit.record(
        session,
        "member.joined",
        principal=principal,
        workspace_id=invitation.workspace_id,
        target_type="invitation",
        target_id=invitation.id,
    )
    return WorkspaceRead(
        id=workspace.id, name=workspace.name, role=invitation.role, created_at=workspace.created_at
    )
