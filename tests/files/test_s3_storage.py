"""The S3 adapter against a real, signature-checking S3 API (SeaweedFS on loopback), and the
whole upload → scan → download → delete path with ``STORAGE_BACKEND=s3``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.files.storage import StorageError
from app.files.storage.s3 import S3Storage
from tests.factories.files import png_bytes, upload_ok, wait_for_scan
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.files.conftest import scanning_env, start_worker
from tests.files.seaweed import ACCESS_KEY, BUCKET, SECRET_KEY, Seaweed, start_seaweed, stop_seaweed
from tests.scanner import EICAR, Clamd
from tests.servers import ServerFactory
from tests.support import Database, Server, stop_process

pytestmark = pytest.mark.checklist(
    "C8",
    red="store uploads outside their workspace prefix, keep an infected object after its verdict,"
    " or stop requesting server-side encryption (app/files/storage/s3.py)",
)


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    instance = start_seaweed(Path(tmp_path_factory.mktemp("seaweed")))
    yield instance
    stop_seaweed(instance)


def adapter(seaweed: Seaweed, secret: str = SECRET_KEY) -> S3Storage:
    return S3Storage(seaweed.client(secret), BUCKET)  # type: ignore[arg-type]


async def _collect(storage: S3Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key)])


def test_put_read_delete_round_trip_with_encryption_requested(
    seaweed: Seaweed, tmp_path: Path
) -> None:
    storage = adapter(seaweed)
    source = tmp_path / "upload"
    data = b"x" * (200 * 1024) + b"end"
    source.write_bytes(data)
    key = f"{uuid.uuid4()}/{uuid.uuid4().hex}"
    requests: list[dict[str, Any]] = []
    storage.client.meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: requests.append(params)
    )

    asyncio.run(storage.put(key, source, content_type="text/plain"))

    assert requests[0]["headers"]["x-amz-server-side-encryption"] == "AES256"
    assert asyncio.run(_collect(storage, key)) == data
    assert asyncio.run(storage.check())
    asyncio.run(storage.delete(key))
    with pytest.raises(StorageError):
        asyncio.run(_collect(storage, key))


def test_a_wrong_secret_is_refused_by_the_server(seaweed: Seaweed, tmp_path: Path) -> None:
    """The server verifies signatures: credentials matter (and no error names the bucket)."""
    storage = adapter(seaweed, secret="not-the-secret")
    source = tmp_path / "upload"
    source.write_bytes(b"data")

    with pytest.raises(StorageError) as raised:
        asyncio.run(storage.put(f"{uuid.uuid4()}/k", source, content_type="text/plain"))

    assert BUCKET not in str(raised.value)
    assert not asyncio.run(storage.check())


@pytest.fixture(scope="module")
def s3_stack(
    own_db: Database,
    clamd: Clamd,
    seaweed: Seaweed,
    server_factory: ServerFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    state = Path(tmp_path_factory.mktemp("s3stack"))
    env = scanning_env(
        own_db,
        clamd,
        state / "unused",
        STORAGE_BACKEND="s3",
        S3_BUCKET=BUCKET,
        S3_ENDPOINT_URL=seaweed.endpoint,
        S3_ACCESS_KEY_ID=ACCESS_KEY,
        S3_SECRET_ACCESS_KEY=SECRET_KEY,
    )
    with server_factory(env, log_path=state / "server.log") as server:
        worker = start_worker(server.env, state / "worker.log")
        yield server
        stop_process(worker)


def _keys(seaweed: Seaweed, prefix: str) -> list[str]:
    listed: Any = seaweed.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)  # type: ignore[attr-defined]
    return [item["Key"] for item in listed.get("Contents", [])]


def test_uploads_live_under_their_workspace_and_infected_ones_are_removed(
    s3_stack: Server, own_db: Database, seaweed: Seaweed
) -> None:
    owner = create_actor(s3_stack, own_db, "s3")
    ws = create_workspace(owner)
    image = png_bytes(2, 2)
    clean = upload_ok(owner, ws, "a.png", image)
    infected = upload_ok(owner, ws, "b.txt", b"hello\n" + EICAR)

    assert wait_for_scan(owner, clean["id"])["status"] == "clean"
    assert wait_for_scan(owner, infected["id"])["status"] == "infected"

    keys = _keys(seaweed, "")
    assert keys == [own_db.scalar("SELECT storage_key FROM file WHERE id = %s", clean["id"])]
    assert keys[0].startswith(f"{ws}/")
    download = owner.get(f"/v1/files/{clean['id']}/content")
    assert download.status_code == 200
    assert download.content == image
    assert owner.delete(f"/v1/files/{clean['id']}").status_code == 204
    assert _keys(seaweed, ws) == []
