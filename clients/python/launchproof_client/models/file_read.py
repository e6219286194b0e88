from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_status import FileStatus

T = TypeVar("T", bound="FileRead")


@_attrs_define
class FileRead:
    """A file's metadata. ``content_type`` was decided from the bytes; ``name`` is display-only.

    ``status``: ``pending_scan`` (unusable until scanned), ``clean``, or ``infected`` (the bytes
    were deleted; this record stays). ``scan_engine`` names the scanner, or ``disabled`` when a
    development server runs without one.

        Attributes:
            content_type (str):
            created_at (datetime.datetime):
            id (UUID):
            name (str):
            scan_engine (None | str):
            scanned_at (datetime.datetime | None):
            sha256 (str):
            size_bytes (int):
            status (FileStatus): ``pending_scan`` files are unusable; only ``clean`` ones are downloadable or readable by
                the bot; ``infected`` ones have no stored bytes left, only this record.
            workspace_id (UUID):
    """

    content_type: str
    created_at: datetime.datetime
    id: UUID
    name: str
    scan_engine: None | str
    scanned_at: datetime.datetime | None
    sha256: str
    size_bytes: int
    status: FileStatus
    workspace_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        content_type = self.content_type

        created_at = self.created_at.isoformat()

        id = str(self.id)

        name = self.name

        scan_engine: None | str
        scan_engine = self.scan_engine

        scanned_at: None | str
        if isinstance(self.scanned_at, datetime.datetime):
            scanned_at = self.scanned_at.isoformat()
        else:
            scanned_at = self.scanned_at

        sha256 = self.sha256

        size_bytes = self.size_bytes

        status = self.status.value

        workspace_id = str(self.workspace_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "content_type": content_type,
                "created_at": created_at,
                "id": id,
                "name": name,
                "scan_engine": scan_engine,
                "scanned_at": scanned_at,
                "sha256": sha256,
                "size_bytes": size_bytes,
                "status": status,
                "workspace_id": workspace_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        content_type = d.pop("content_type")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        name = d.pop("name")

        def _parse_scan_engine(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        scan_engine = _parse_scan_engine(d.pop("scan_engine"))

        def _parse_scanned_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scanned_at_type_0 = datetime.datetime.fromisoformat(data)

                return scanned_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        scanned_at = _parse_scanned_at(d.pop("scanned_at"))

        sha256 = d.pop("sha256")

        size_bytes = d.pop("size_bytes")

        status = FileStatus(d.pop("status"))

        workspace_id = UUID(d.pop("workspace_id"))

        file_read = cls(
            content_type=content_type,
            created_at=created_at,
            id=id,
            name=name,
            scan_engine=scan_engine,
            scanned_at=scanned_at,
            sha256=sha256,
            size_bytes=size_bytes,
            status=status,
            workspace_id=workspace_id,
        )

        file_read.additional_properties = d
        return file_read

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
