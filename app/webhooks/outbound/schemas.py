from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

from app.webhooks.events import SUBSCRIBABLE_EVENTS, EventType


def _subscribable(event: EventType) -> EventType:
    if event not in SUBSCRIBABLE_EVENTS:
        raise ValueError("this event type is sent by the test action only")
    return event


def _unique(events: list[EventType]) -> list[EventType]:
    return sorted(set(events))


# The schema names only the events an endpoint may subscribe to (the test event is sent by the
# test action alone), and the URL schemes; what a URL may point at (public addresses only,
# https in production) is checked when it is saved and answers 422 (app/core/outbound).
SubscribableEvent = Annotated[
    EventType,
    AfterValidator(_subscribable),
    WithJsonSchema({"type": "string", "enum": sorted(SUBSCRIBABLE_EVENTS)}),
]
EndpointURL = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=2048),
    Field(json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"}),
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
]
EventList = Annotated[
    list[SubscribableEvent],
    Field(min_length=1, max_length=len(EventType)),
    AfterValidator(_unique),
]


class EndpointCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/launchproof",
                    "event_types": ["message.created"],
                    "description": "CRM sync",
                }
            ]
        },
    )

    url: EndpointURL
    event_types: EventList
    description: Description = ""
    include_content: StrictBool = False


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: EndpointURL | None = None
    event_types: EventList | None = None
    description: Description | None = None
    include_content: StrictBool | None = None
    enabled: StrictBool | None = None


class EndpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workspace_id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    include_content: bool
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    failing_since: datetime | None
    disabled_at: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime | None


class EndpointWithSecret(EndpointRead):
    secret: str = Field(description="The signing secret (whsec_...). Shown once; store it now.")


class EndpointList(BaseModel):
    items: list[EndpointRead]
    next_cursor: str | None


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status_code: int | None
    outcome: str
    duration_ms: int
    response_snippet: str
    created_at: datetime


class DeliveryRead(BaseModel):
    id: uuid.UUID
    webhook_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    created_at: datetime
    completed_at: datetime | None
    attempt_log: list[AttemptRead]


class DeliveryList(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None


class TestEventQueued(BaseModel):
    delivery_id: uuid.UUID
    webhook_id: str


class RecoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime = Field(
        description="Queue again every failed or held delivery created at or after this time "
        "(within the retention window)."
    )


class DeliveriesRequeued(BaseModel):
    requeued: int = Field(description="How many deliveries were queued again.")


class DeliveryRequeued(BaseModel):
    delivery_id: uuid.UUID
    webhook_id: str = Field(description="The original webhook-id: receivers deduplicate on it.")
