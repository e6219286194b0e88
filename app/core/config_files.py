"""File settings (app/files; docs/files.md), mixed into the one ``Settings`` class.

Split from ``app/core/config.py`` by subdomain (size budget, CONVENTIONS rule 3); there is
still one ``Settings`` object and one environment. Environment names: ``STORAGE_BACKEND``,
``STORAGE_LOCAL_DIR``, ``S3_*``, ``CLAMD_URL``, ``SCANNER_DISABLED``, ``FILE_*``,
``UPLOAD_*``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

# Secret-bearing file settings: each also reads NAME_FILE (see Settings._read_secret_files).
FILE_SECRET_FIELDS = ("s3_access_key_id", "s3_secret_access_key")


class FileSettings(BaseModel):
    # Where uploaded bytes live: a local directory (development default) or S3 via boto3.
    storage_backend: Literal["local", "s3"] = "local"
    storage_local_dir: Path = Path(".data/files")
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # None = AWS; a loopback URL for SeaweedFS in tests
    s3_region: str = "us-east-1"
    # Unset = boto3's default credential chain (instance role, AWS_* variables, profiles).
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    # Server-side encryption requested on every put.
    s3_server_side_encryption: Literal["AES256", "aws:kms"] = "AES256"
    # clamd over TCP: tcp://127.0.0.1:3310. Production refuses to start without it.
    clamd_url: str | None = Field(default=None, pattern=r"^tcp://[^/\s:]+:\d{1,5}$")
    clamd_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # Development/test only: files are usable unscanned and say so (scan_engine "disabled").
    scanner_disabled: bool = False
    file_workspace_quota_bytes: int = Field(default=1024 * 1_048_576, ge=0)
    # Archive formats (docx/xlsx) are opened only within these limits.
    file_archive_max_entries: int = Field(default=2000, ge=1)
    file_archive_max_expanded_bytes: int = Field(default=200 * 1_048_576, ge=1024)
    # What the bot's file tool and attachments read from one file (characters).
    file_text_max_chars: int = Field(default=20_000, ge=100, le=1_000_000)
    # Past this many failed attempts a scan keeps retrying hourly and is logged as an error.
    file_scan_max_attempts: int = Field(default=20, ge=1)
    # Uploads in flight at once (slots in Redis, leased so a killed process frees its slots).
    upload_max_concurrent_per_user: int = Field(default=3, ge=1, le=100)
    upload_max_concurrent_per_workspace: int = Field(default=10, ge=1, le=1000)
    upload_slot_lease_seconds: int = Field(default=60, ge=5, le=3600)

    def file_production_problems(self) -> list[str]:
        problems: list[str] = []
        if self.scanner_disabled:
            problems.append("SCANNER_DISABLED is on")
        if self.clamd_url is None:
            problems.append("CLAMD_URL is not set")
        if self.storage_backend == "s3" and not self.s3_bucket:
            problems.append("S3_BUCKET is not set")
        return problems
