"""Concurrent uploads are capped per user and per workspace, the slots live in Redis and outlive
no process, and a slot store that is down answers 503 with Retry-After.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.factories.users import create_actor
from tests.factories.workspaces import add_member, create_workspace
from tests.faults.slow_clients import (
    PrivateRedis,
    Trickler,
    on_server,
    start_redis,
    start_upload,
    timeout_server,
)
from tests.support import (
    Actor,
    Database,
    base_env,
    start_server,
    stop_process,
    stop_server,
)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    own = start_redis(tmp_path)
    yield own
    if own.process.poll() is None:
        stop_process(own.process)


# --- Concurrent upload caps -------------------------------------------------------------------


CAPS = {
    "UPLOAD_MAX_CONCURRENT_PER_USER": "2",
    "UPLOAD_MAX_CONCURRENT_PER_WORKSPACE": "3",
    "UPLOAD_SLOT_LEASE_SECONDS": "5",
}


def _refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert int(response.headers["retry-after"]) >= 1


def _upload(actor: Actor, ws: str) -> httpx.Response:
    return actor.post(
        f"/v1/workspaces/{ws}/files", files={"file": ("ok.txt", b"fast words\n", "text/plain")}
    )


def test_concurrent_uploads_are_capped_per_user_and_per_workspace(
    db: Database, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    server = timeout_server(db, tmp_path, REDIS_URL=private_redis.url, **CAPS)
    try:
        owner = on_server(create_actor(server, db, "capped"), server)
        ws = create_workspace(owner)
        member = add_member(server, db, owner, ws, "member")
        held = [start_upload(owner, ws, b"slow " * 40) for _ in range(2)]
        time.sleep(0.5)
        _refused(_upload(owner, ws), 429, "too_many_uploads")  # the user's two slots are taken
        held.append(start_upload(member, ws, b"slow " * 40))
        with Trickler(held):
            # Past one lease: the slots of uploads still running are renewed, not lapsed.
            time.sleep(int(CAPS["UPLOAD_SLOT_LEASE_SECONDS"]) + 1.5)
            _refused(_upload(member, ws), 429, "too_many_uploads")  # the workspace's three are
            _refused(_upload(owner, ws), 429, "too_many_uploads")
        for upload in held:
            upload.sock.close()  # hung up: the slots come back at once
        time.sleep(0.5)
        assert _upload(member, ws).status_code == 201
        assert _upload(owner, ws).status_code == 201
    finally:
        stop_server(server)


def test_a_killed_process_does_not_keep_its_upload_slots(
    db: Database, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    caps = {**CAPS, "UPLOAD_MAX_CONCURRENT_PER_USER": "1"}
    env = base_env(db, REDIS_URL=private_redis.url, REQUEST_BODY_TIMEOUT_SECONDS="30", **caps)
    server = start_server(env, tmp_path / "first.log")
    owner = on_server(create_actor(server, db, "killed"), server)
    ws = create_workspace(owner)
    held = start_upload(owner, ws, b"slow " * 10)
    time.sleep(0.5)
    os.kill(server.process.pid, signal.SIGKILL)  # the slot is never released
    server.process.wait(timeout=10)
    held.sock.close()
    key = f"{env['RATE_LIMIT_KEY_PREFIX']}:upload-slots:user:{owner.user_id}"
    with redis.Redis.from_url(private_redis.url) as store:
        assert store.zcard(key) == 1  # left behind by the dead process, with its lease
        again = start_server(env, tmp_path / "second.log")
        try:
            owner = on_server(owner, again)
            deadline = time.monotonic() + int(CAPS["UPLOAD_SLOT_LEASE_SECONDS"]) + 3
            while (response := _upload(owner, ws)).status_code == 429:
                _refused(response, 429, "too_many_uploads")
                assert time.monotonic() < deadline, "the dead process's slot never lapsed"
                time.sleep(0.5)
            assert response.status_code == 201, response.text
            assert store.zcard(key) == 0
        finally:
            stop_server(again)


def test_uploads_answer_503_with_retry_after_while_redis_is_down(
    db: Database, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    server = timeout_server(db, tmp_path, REDIS_URL=private_redis.url, **CAPS)
    try:
        owner = on_server(create_actor(server, db, "no-redis"), server)
        ws = create_workspace(owner)
        stop_process(private_redis.process)
        response = _upload(owner, ws)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert int(response.headers["retry-after"]) >= 1
        assert db.scalar("SELECT count(*) FROM file WHERE workspace_id = %s", ws) == 0
    finally:
        stop_server(server)


def test_the_slot_store_down_is_a_503_with_retry_after(private_redis: PrivateRedis) -> None:
    """The slots themselves fail closed when Redis is gone (the rate budget before them too)."""
    import asyncio
    import uuid

    from app.core.config import Settings
    from app.files.errors import UploadSlotsUnavailable
    from app.files.upload_slots import UploadSlots

    async def scenario() -> None:
        slots = UploadSlots(Settings(redis_url=private_redis.url))
        async with slots.hold(uuid.uuid4(), uuid.uuid4()):
            pass  # up: a slot is taken and given back
        stop_process(private_redis.process)
        try:
            async with slots.hold(uuid.uuid4(), uuid.uuid4()):
                pass
        finally:
            await slots.close()

    with pytest.raises(UploadSlotsUnavailable) as refused:
        asyncio.run(scenario())
    assert refused.value.status_code == 503
    assert int(refused.value.headers["Retry-After"]) >= 1
