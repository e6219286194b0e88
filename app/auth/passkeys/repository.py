"""Every statement about passkeys and passkey ceremonies. Passkey methods take the owning user
id (no RLS here: these rows belong to one person), so no call reaches another user's keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, select, update

from app.auth.passkeys.models import Passkey, PasskeyCeremony
from app.core.repository import Repository
from app.identity.models import User


class PasskeyRepository(Repository[Passkey]):
    model = Passkey

    async def of_user(self, user_id: uuid.UUID) -> Sequence[Passkey]:
        return await self.get_all(
            select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)
        )

    async def count_of(self, user_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id)
        )
        return int(count or 0)

    async def get_of_user(self, user_id: uuid.UUID, passkey_id: uuid.UUID) -> Passkey | None:
        return await self.get_one_or_none(
            select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id)
        )

    async def by_credential_id(self, credential_id: bytes) -> Passkey | None:
        return await self.get_one_or_none(
            select(Passkey).where(Passkey.credential_id == credential_id)
        )

    async def rename(self, user_id: uuid.UUID, passkey_id: uuid.UUID, name: str) -> bool:
        result = await self.session.execute(
            update(Passkey)
            .where(Passkey.id == passkey_id, Passkey.user_id == user_id)
            .values(name=name)
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete_of_user(self, user_id: uuid.UUID, passkey_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete_all(self, user_id: uuid.UUID) -> int:
        result = await self.session.execute(delete(Passkey).where(Passkey.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def claim_use(self, passkey_id: uuid.UUID, sign_count: int, now: datetime) -> bool:
        """Record a use with the authenticator's counter, atomically refusing a regression: the
        new count must exceed the stored one unless both are zero (authenticators that keep no
        counter). Two concurrent uses with the same count cannot both pass."""
        result = await self.session.execute(
            update(Passkey)
            .where(
                Passkey.id == passkey_id,
                (Passkey.sign_count < sign_count) | ((Passkey.sign_count == 0) & (sign_count == 0)),
            )
            .values(sign_count=sign_count, last_used_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def user_handle_of(self, user_id: uuid.UUID) -> bytes | None:
        handle = await self.session.scalar(
            select(User.passkey_user_handle).where(User.id == user_id)
        )
        return bytes(handle) if handle is not None else None

    async def set_user_handle(self, user_id: uuid.UUID, handle: bytes) -> None:
        await self.session.execute(
            update(User)
            .where(User.id == user_id, User.passkey_user_handle.is_(None))
            .values(passkey_user_handle=handle)
        )


class CeremonyRepository(Repository[PasskeyCeremony]):
    model = PasskeyCeremony

    @staticmethod
    def _binding(
        purpose: str,
        *,
        session_id: uuid.UUID | None = None,
        login_challenge_id: uuid.UUID | None = None,
        token_hashes: Sequence[bytes] | None = None,
    ) -> ColumnElement[bool]:
        if session_id is not None:
            bound = PasskeyCeremony.session_id == session_id
        elif login_challenge_id is not None:
            bound = PasskeyCeremony.login_challenge_id == login_challenge_id
        else:
            bound = PasskeyCeremony.token_hash.in_(list(token_hashes or []))
        return and_(PasskeyCeremony.purpose == purpose, bound)

    async def replace(self, ceremony: PasskeyCeremony) -> None:
        """Store a new ceremony; an earlier unfinished one of the same binding and purpose ends
        (only the newest prompt of a session or half session can be answered)."""
        if ceremony.session_id is not None or ceremony.login_challenge_id is not None:
            await self.session.execute(
                update(PasskeyCeremony)
                .where(
                    self._binding(
                        ceremony.purpose,
                        session_id=ceremony.session_id,
                        login_challenge_id=ceremony.login_challenge_id,
                    ),
                    PasskeyCeremony.used_at.is_(None),
                )
                .values(used_at=func.now())
            )
        await self.create(ceremony)

    async def claim(
        self,
        purpose: str,
        now: datetime,
        *,
        session_id: uuid.UUID | None = None,
        login_challenge_id: uuid.UUID | None = None,
        token_hashes: Sequence[bytes] | None = None,
    ) -> PasskeyCeremony | None:
        """Mark the live ceremony of this binding used and return it: single use, whatever the
        outcome of the check that follows; two concurrent finishes cannot both get it."""
        binding = self._binding(
            purpose,
            session_id=session_id,
            login_challenge_id=login_challenge_id,
            token_hashes=token_hashes,
        )
        result = await self.session.execute(
            update(PasskeyCeremony)
            .where(binding, PasskeyCeremony.used_at.is_(None), PasskeyCeremony.expires_at > now)
            .values(used_at=now)
            .returning(PasskeyCeremony)
        )
        return result.scalars().first()

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(PasskeyCeremony).where(PasskeyCeremony.expires_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
