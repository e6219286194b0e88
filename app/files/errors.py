"""Domain errors of the files package (problem+json through app.core.errors)."""

from __future__ import annotations

from app.core.errors import (
    Conflict,
    PayloadTooLarge,
    ServiceUnavailable,
    Unprocessable,
    UnsupportedMediaType,
)


class UnsupportedFileType(UnsupportedMediaType):
    code = "unsupported_file_type"
    title = "File type not accepted"


class FileTypeMismatch(Unprocessable):
    code = "file_type_mismatch"
    title = "File name or declared type does not match the content"


class InvalidUpload(Unprocessable):
    code = "invalid_upload"
    title = "The upload is malformed"


class UploadTooLarge(PayloadTooLarge):
    code = "payload_too_large"
    title = "Payload too large"


class QuotaExceeded(PayloadTooLarge):
    code = "quota_exceeded"
    title = "Workspace storage quota exceeded"


class FileNotReady(Conflict):
    code = "file_not_clean"
    title = "The file is not available"


class AttachmentNotReady(Unprocessable):
    code = "file_not_clean"
    title = "The file cannot be attached yet"


class DependencyUnavailable(ServiceUnavailable):
    """A dependency an upload or download needs is down: 503 with ``Retry-After``."""


class StorageUnavailable(DependencyUnavailable):
    code = "storage_unavailable"


class UploadSlotsUnavailable(DependencyUnavailable):
    code = "upload_slots_unavailable"

    def __init__(self) -> None:
        super().__init__("Uploads cannot be admitted right now; try again shortly.")
