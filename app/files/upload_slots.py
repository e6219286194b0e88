"""Concurrent upload slots per user and per workspace, shared by every API process (Redis).

A slot is a member of a sorted set (one per user, one per workspace) scored by its lease expiry
in Redis' own clock. Taking a slot is one script: drop expired members from both sets, refuse if
either is full, else add the token to both. While the upload runs, a heartbeat pushes the lease
forward every third of ``UPLOAD_SLOT_LEASE_SECONDS``; the slot is removed when the upload ends.
A process killed mid-upload stops renewing, so its slots lapse within one lease: nothing leaks
for ever. Over the cap: 429 with ``Retry-After``. Redis unreachable: 503 with ``Retry-After``
(fail closed, like the upload rate budget: an unmetered upload path is the attack this stops).

Without ``REDIS_URL`` (development, single process) the slots live in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.core.config import Settings
from app.core.errors import RateLimited
from app.files.errors import UploadSlotsUnavailable

log = structlog.get_logger()
STORE_TIMEOUT_SECONDS = 0.5
RETRY_AFTER_SECONDS = 5
T = TypeVar("T")

# KEYS: user set, workspace set. ARGV: token, lease ms, user cap, workspace cap.
# Returns 1 when taken, 0 when the user is at the cap, -1 when the workspace is.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -1 end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], lease)
end
return 1
"""
# KEYS: user set, workspace set. ARGV: token, lease ms.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], 'XX', now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2]))
end
return 1
"""


class SlotsFull(RateLimited):
    code = "too_many_uploads"
    title = "Too many uploads in progress"


@dataclass(frozen=True)
class _Keys:
    user: str
    workspace: str


class UploadSlots:
    def __init__(self, settings: Settings) -> None:
        self.per_user = settings.upload_max_concurrent_per_user
        self.per_workspace = settings.upload_max_concurrent_per_workspace
        self.lease_ms = settings.upload_slot_lease_seconds * 1000
        self.prefix = f"{settings.rate_limit_key_prefix}:upload-slots"
        self.redis: Redis | None = None
        self.local: dict[str, dict[str, float]] = {}
        if settings.redis_url is not None:
            self.redis = Redis.from_url(
                settings.redis_url.get_secret_value(),
                socket_timeout=STORE_TIMEOUT_SECONDS,
                socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            )

    def _keys(self, user_id: uuid.UUID, workspace_id: uuid.UUID) -> _Keys:
        return _Keys(f"{self.prefix}:user:{user_id}", f"{self.prefix}:workspace:{workspace_id}")

    @contextlib.asynccontextmanager
    async def hold(self, user_id: uuid.UUID, workspace_id: uuid.UUID) -> AsyncIterator[None]:
        """Hold one slot for the user and one for the workspace while the block runs."""
        keys = self._keys(user_id, workspace_id)
        token = secrets.token_hex(8)
        taken = await self._store(self._acquire(keys, token))
        if taken != 1:
            who = "you have" if taken == 0 else "this workspace has"
            raise SlotsFull(
                RETRY_AFTER_SECONDS, f"Too many uploads in progress: {who} reached the limit."
            )
        heartbeat = asyncio.create_task(self._renew_forever(keys, token))
        try:
            yield
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            try:
                await asyncio.shield(self._store(self._release(keys, token)))
            except UploadSlotsUnavailable:  # the lease lapses on its own
                log.warning("upload slot release failed; it expires with its lease")

    async def _store(self, operation: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(STORE_TIMEOUT_SECONDS):
                return await operation
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("upload slot store unavailable; refusing", error=type(exc).__name__)
            raise UploadSlotsUnavailable() from None

    async def _acquire(self, keys: _Keys, token: str) -> int:
        if self.redis is None:
            now = time.monotonic()
            sets = [self.local.setdefault(k, {}) for k in (keys.user, keys.workspace)]
            for members in sets:
                for member, expiry in list(members.items()):
                    if expiry <= now:
                        del members[member]
            if len(sets[0]) >= self.per_user:
                return 0
            if len(sets[1]) >= self.per_workspace:
                return -1
            for members in sets:
                members[token] = now + self.lease_ms / 1000
            return 1
        result = await self.redis.eval(
            _ACQUIRE,
            2,
            keys.user,
            keys.workspace,
            token,
            self.lease_ms,
            self.per_user,
            self.per_workspace,
        )
        return int(result)

    async def _renew(self, keys: _Keys, token: str) -> None:
        if self.redis is None:
            expiry = time.monotonic() + self.lease_ms / 1000
            for key in (keys.user, keys.workspace):
                if token in self.local.get(key, {}):
                    self.local[key][token] = expiry
            return
        await self.redis.eval(_RENEW, 2, keys.user, keys.workspace, token, self.lease_ms)

    async def _renew_forever(self, keys: _Keys, token: str) -> None:
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                await self._store(self._renew(keys, token))
            except UploadSlotsUnavailable:
                log.warning("upload slot renewal failed; retrying")

    async def _release(self, keys: _Keys, token: str) -> None:
        if self.redis is None:
            for key in (keys.user, keys.workspace):
                self.local.get(key, {}).pop(token, None)
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(keys.user, token)
            pipe.zrem(keys.workspace, token)
            await pipe.execute()

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
