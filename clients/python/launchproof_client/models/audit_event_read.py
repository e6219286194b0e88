from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.audit_event_read_details import AuditEventReadDetails


T = TypeVar("T", bound="AuditEventRead")


@_attrs_define
class AuditEventRead:
    """
    Attributes:
        action (str):
        actor_api_key_id (None | UUID):
        actor_user_id (None | UUID):
        client_ip (None | str):
        details (AuditEventReadDetails):
        id (UUID):
        occurred_at (datetime.datetime):
        outcome (str):
        request_id (None | str):
        target_id (None | UUID):
        target_type (None | str):
        workspace_id (None | UUID):
    """

    action: str
    actor_api_key_id: None | UUID
    actor_user_id: None | UUID
    client_ip: None | str
    details: AuditEventReadDetails
    id: UUID
    occurred_at: datetime.datetime
    outcome: str
    request_id: None | str
    target_id: None | UUID
    target_type: None | str
    workspace_id: None | UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        actor_api_key_id: None | str
        if isinstance(self.actor_api_key_id, UUID):
            actor_api_key_id = str(self.actor_api_key_id)
        else:
            actor_api_key_id = self.actor_api_key_id

        actor_user_id: None | str
        if isinstance(self.actor_user_id, UUID):
            actor_user_id = str(self.actor_user_id)
        else:
            actor_user_id = self.actor_user_id

        client_ip: None | str
        client_ip = self.client_ip

        details = self.details.to_dict()

        id = str(self.id)

        occurred_at = self.occurred_at.isoformat()

        outcome = self.outcome

        request_id: None | str
        request_id = self.request_id

        target_id: None | str
        if isinstance(self.target_id, UUID):
            target_id = str(self.target_id)
        else:
            target_id = self.target_id

        target_type: None | str
        target_type = self.target_type

        workspace_id: None | str
        if isinstance(self.workspace_id, UUID):
            workspace_id = str(self.workspace_id)
        else:
            workspace_id = self.workspace_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor_api_key_id": actor_api_key_id,
                "actor_user_id": actor_user_id,
                "client_ip": client_ip,
                "details": details,
                "id": id,
                "occurred_at": occurred_at,
                "outcome": outcome,
                "request_id": request_id,
                "target_id": target_id,
                "target_type": target_type,
                "workspace_id": workspace_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_event_read_details import AuditEventReadDetails  # noqa: PLC0415

        d = dict(src_dict)
        action = d.pop("action")

        def _parse_actor_api_key_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                actor_api_key_id_type_0 = UUID(data)

                return actor_api_key_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        actor_api_key_id = _parse_actor_api_key_id(d.pop("actor_api_key_id"))

        def _parse_actor_user_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                actor_user_id_type_0 = UUID(data)

                return actor_user_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        actor_user_id = _parse_actor_user_id(d.pop("actor_user_id"))

        def _parse_client_ip(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        client_ip = _parse_client_ip(d.pop("client_ip"))

        details = AuditEventReadDetails.from_dict(d.pop("details"))

        id = UUID(d.pop("id"))

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        outcome = d.pop("outcome")

        def _parse_request_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        request_id = _parse_request_id(d.pop("request_id"))

        def _parse_target_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                target_id_type_0 = UUID(data)

                return target_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        target_id = _parse_target_id(d.pop("target_id"))

        def _parse_target_type(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        target_type = _parse_target_type(d.pop("target_type"))

        def _parse_workspace_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                workspace_id_type_0 = UUID(data)

                return workspace_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        workspace_id = _parse_workspace_id(d.pop("workspace_id"))

        audit_event_read = cls(
            action=action,
            actor_api_key_id=actor_api_key_id,
            actor_user_id=actor_user_id,
            client_ip=client_ip,
            details=details,
            id=id,
            occurred_at=occurred_at,
            outcome=outcome,
            request_id=request_id,
            target_id=target_id,
            target_type=target_type,
            workspace_id=workspace_id,
        )

        audit_event_read.additional_properties = d
        return audit_event_read

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
