from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update

from app.core.repository import Repository
from app.invitations.models import Invitation
from app.workspaces.access import AccessibleWorkspaceID


class InvitationRepository(Repository[Invitation]):
    model = Invitation

    async def get_by_token_hash(self, token_hash: bytes, now: datetime) -> Invitation | None:
        """A live invitation found by presenting its token.

        RLS shows an invitation row only to its workspace's members or to a transaction that
        presents the row's own token hash (``app.credential_hash``): the invitee holds the token.
        """
        await self.session.execute(
            select(func.set_config("app.credential_hash", token_hash.hex(), True))
        )
        invitation = await self.get_one_or_none(
            select(Invitation).where(
                Invitation.token_hash == token_hash,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > now,
            )
        )
        await self.session.execute(select(func.set_config("app.credential_hash", "", True)))
        return invitation

    async def mark_accepted(self, invitation_id: uuid.UUID, now: datetime) -> bool:
        """Atomically claim the invitation; False if a concurrent accept got there first.

        (Needs the workspace in the RLS context: UPDATE policies apply.)
        """
        result = await self.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.accepted_at.is_(None))
            .values(accepted_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def supersede(
        self, workspace_id: AccessibleWorkspaceID, email: str, now: datetime
    ) -> None:
        """Expire earlier open invitations of the same address to the same workspace."""
        await self.session.execute(
            update(Invitation)
            .where(
                Invitation.workspace_id == workspace_id,
                Invitation.email == email,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(expires_at=now)
        )
