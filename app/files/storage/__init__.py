"""Object storage: one port (``Storage``), a local-directory adapter and an S3 adapter."""

from __future__ import annotations

from app.core.config import Settings
from app.files.storage.port import Storage, StorageError


def create_storage(settings: Settings) -> Storage:
    """The adapter ``STORAGE_BACKEND`` names (``local`` for ``make run``, ``s3`` in production)."""
    if settings.storage_backend == "s3":
        from app.files.storage.s3 import S3Storage

        return S3Storage.from_settings(settings)
    from app.files.storage.local import LocalStorage

    return LocalStorage(settings.storage_local_dir)


_SHARED: dict[int, Storage] = {}


def shared_storage(settings: Settings) -> Storage:
    """One adapter per process and settings object (a boto3 client is worth reusing): the app,
    the worker's scan job, attachments and the bot's file tool all use this one."""
    key = id(settings)
    if key not in _SHARED:
        _SHARED[key] = create_storage(settings)
    return _SHARED[key]


__all__ = ["Storage", "StorageError", "create_storage", "shared_storage"]
