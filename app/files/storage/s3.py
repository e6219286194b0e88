"""S3 through boto3 (AWS, or any S3 API: SeaweedFS in tests).

boto3 is synchronous: every call runs in a worker thread (anyio.to_thread), never on the event
loop. Puts request server-side encryption and never set an ACL (the bucket stays private); keys
are ``{workspace_id}/{random}``. Downloads are proxied through the app with its own safe
headers, so no presigned URL is ever minted. Errors become ``StorageError`` carrying only the
S3 error code: no bucket, endpoint or key reaches a log or a response.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.core.config import Settings
from app.files.storage.port import CHUNK_BYTES, StorageError

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


class S3Storage:
    name = "s3"

    def __init__(self, client: S3Client, bucket: str, *, encryption: str = "AES256") -> None:
        self.client = client
        self.bucket = bucket
        self.encryption = encryption

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        if not settings.s3_bucket:
            raise RuntimeError("S3_BUCKET is not set")
        credentials: dict[str, Any] = {}
        if settings.s3_access_key_id and settings.s3_secret_access_key:
            credentials = {
                "aws_access_key_id": settings.s3_access_key_id.get_secret_value(),
                "aws_secret_access_key": settings.s3_secret_access_key.get_secret_value(),
            }
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
            **credentials,
        )
        return cls(client, settings.s3_bucket, encryption=settings.s3_server_side_encryption)

    async def put(self, key: str, source: Path, *, content_type: str) -> None:
        extra = {"ContentType": content_type, "ServerSideEncryption": self.encryption}
        try:
            # upload_file streams from disk (multipart above its threshold): flat memory.
            await anyio.to_thread.run_sync(
                lambda: self.client.upload_file(str(source), self.bucket, key, ExtraArgs=extra)
            )
        except (BotoCoreError, ClientError, OSError) as exc:
            raise StorageError(_code(exc)) from None
        except Exception as exc:  # boto3's S3UploadFailedError wraps the ClientError
            raise StorageError(type(exc).__name__) from None

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            response = await anyio.to_thread.run_sync(
                lambda: self.client.get_object(Bucket=self.bucket, Key=key)
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(_code(exc)) from None
        body = response["Body"]
        try:
            while True:
                try:
                    chunk = await anyio.to_thread.run_sync(body.read, CHUNK_BYTES)
                except (BotoCoreError, ClientError, OSError) as exc:
                    raise StorageError(_code(exc)) from None
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        try:
            await anyio.to_thread.run_sync(
                lambda: self.client.delete_object(Bucket=self.bucket, Key=key)
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(_code(exc)) from None

    async def check(self) -> bool:
        try:
            await anyio.to_thread.run_sync(lambda: self.client.head_bucket(Bucket=self.bucket))
        except (BotoCoreError, ClientError):
            return False
        return True
