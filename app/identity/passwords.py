"""Password hashing with argon2id (argon2-cffi), off the event loop, with bounded concurrency.

Each hash costs tens of milliseconds of CPU and ~19 MiB of memory. Hashing runs in worker threads
behind a ``CapacityLimiter`` so a flood of logins queues instead of starving every other request
(and the machine's memory). Unknown e-mails are verified against a dummy hash so that "no such
user" costs the same time as "wrong password".
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import anyio
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.core.config import Settings

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


class PasswordService:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._limiter = anyio.CapacityLimiter(settings.argon2_max_concurrency)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(
            self._hasher.hash, _normalise(password), limiter=self._limiter
        )

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no stored hash, burns the same time and fails."""
        if stored_hash is None:
            stored_hash = await self._dummy()
            await anyio.to_thread.run_sync(
                self._check, stored_hash, password, limiter=self._limiter
            )
            return False
        return await anyio.to_thread.run_sync(
            self._check, stored_hash, password, limiter=self._limiter
        )

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def _check(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, _normalise(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("dummy password that never matches anything")
        return self._dummy_hash


def _normalise(password: str) -> str:
    # NFKC so the same password typed on two keyboards (composed vs decomposed accents) matches.
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from breach corpora; we use the list, not
    # the scorer, for a deterministic NIST 800-63B "known compromised" check.
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why a new password is refused, or None. The message never contains the password."""
    length = len(_normalise(password))
    if length < MIN_PASSWORD_LENGTH:
        return f"Passwords need at least {MIN_PASSWORD_LENGTH} characters."
    if length > MAX_PASSWORD_LENGTH:
        return f"Passwords have at most {MAX_PASSWORD_LENGTH} characters."
    lowered = _normalise(password).lower()
    if lowered in _common_passwords() or len(set(lowered)) < 3:
        return "This password is too common; choose another."
    if email and lowered in {email.lower(), email.split("@", 1)[0].lower()}:
        return "The password must not be your e-mail address."
    return None
