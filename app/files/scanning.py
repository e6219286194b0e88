"""Which scanner this process uses, and the scan of one file's stored bytes."""

from __future__ import annotations

from app.core.config import Settings
from app.files.clamd import ClamdClient, ScanResult
from app.files.storage import Storage


def scanner_client(settings: Settings) -> ClamdClient | None:
    """The clamd client ``CLAMD_URL`` names; None when scanning is disabled (development/test
    only: production refuses ``SCANNER_DISABLED`` and a missing ``CLAMD_URL``) or unconfigured
    (files then stay ``pending_scan``: never silently clean)."""
    if settings.scanner_disabled or settings.clamd_url is None:
        return None
    return ClamdClient.from_url(settings.clamd_url, timeout=settings.clamd_timeout_seconds)


async def scan_stored(client: ClamdClient, storage: Storage, key: str) -> ScanResult:
    """Stream the stored object to clamd chunk by chunk (never loaded whole)."""
    return await client.scan(storage.read(key))
