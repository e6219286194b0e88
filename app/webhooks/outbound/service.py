"""Webhook endpoints: register, list, update, disable, delete, rotate the secret, test, log.

Only workspace owners/admins (``webhooks.manage``; a key needs ``webhooks:manage``) reach an
endpoint at all: for anyone else an endpoint id is not found. The signing secret is returned
on creation and rotation only and stored encrypted (``secrets.py``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.config import Settings
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.pagination import PageParams
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.webhooks.events import EventType, queue_deliveries
from app.webhooks.outbound import lifecycle
from app.webhooks.outbound.models import DeliveryStatus, WebhookEndpoint
from app.webhooks.outbound.policy import check_endpoint_url
from app.webhooks.outbound.repository import (
    AttemptRepository,
    DeliveryRepository,
    EndpointRepository,
)
from app.webhooks.outbound.schemas import (
    AttemptRead,
    DeliveriesRequeued,
    DeliveryList,
    DeliveryRead,
    DeliveryRequeued,
    EndpointCreate,
    EndpointList,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
    RecoverRequest,
    TestEventQueued,
)
from app.webhooks.outbound.secrets import encrypt_secret, new_signing_secret
from app.webhooks.outbound.signing import message_id
from app.workspaces import service as workspace_service
from app.workspaces.access import AccessibleWorkspaceID, accessible_workspace_ids

MANAGE = WorkspacePermission.WEBHOOKS_MANAGE


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> EndpointWithSecret:
    return EndpointWithSecret.model_validate(
        {**EndpointRead.model_validate(endpoint).model_dump(), "secret": secret}
    )


async def create_endpoint(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    workspace_id: uuid.UUID,
    body: EndpointCreate,
) -> EndpointWithSecret:
    ws = workspace_service.require_collection(principal, workspace_id, MANAGE, visible_with=MANAGE)
    target = await check_endpoint_url(settings, body.url)
    secret = new_signing_secret()
    endpoint = await EndpointRepository(session).create(
        WebhookEndpoint(
            id=uuid.uuid4(),
            workspace_id=ws,
            created_by_id=principal.user_id,
            url=target.url,
            description=body.description,
            event_types=[event.value for event in body.event_types],
            include_content=body.include_content,
            enabled=True,
            secret_encrypted=encrypt_secret(settings, secret),
            consecutive_failures=0,
        )
    )
    await audit.record(
        session,
        "webhook_endpoint.created",
        principal=principal,
        workspace_id=ws,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details={"event_types": endpoint.event_types, "host": target.host},
    )
    return _with_secret(endpoint, secret)


async def list_endpoints(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, params: PageParams
) -> EndpointList:
    ws = workspace_service.require_collection(principal, workspace_id, MANAGE, visible_with=MANAGE)
    page = await EndpointRepository(session).list_in(ws, params)
    return EndpointList(
        items=[EndpointRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )


async def get_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """An endpoint in a workspace where the caller manages webhooks; otherwise not found."""
    endpoint = await EndpointRepository(session).get_in_any(
        accessible_workspace_ids(principal, MANAGE), endpoint_id
    )
    if endpoint is None:
        raise NotFound()
    return endpoint


def _scope(endpoint: WebhookEndpoint) -> AccessibleWorkspaceID:
    # get_endpoint found it among the caller's manageable workspaces.
    return AccessibleWorkspaceID(endpoint.workspace_id)


async def update_endpoint(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    endpoint_id: uuid.UUID,
    body: EndpointUpdate,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, principal, endpoint_id)
    if body.url is not None:
        endpoint.url = (await check_endpoint_url(settings, body.url)).url
    if body.event_types is not None:
        endpoint.event_types = [event.value for event in body.event_types]
    if body.description is not None:
        endpoint.description = body.description
    if body.include_content is not None:
        endpoint.include_content = body.include_content
    resumed = 0
    now = datetime.now(UTC)
    if body.enabled is True and not endpoint.enabled:
        resumed = await lifecycle.resume(session, _scope(endpoint), endpoint, now=now)
    elif body.enabled is False and endpoint.enabled:
        await lifecycle.disable(
            session,
            settings,
            _scope(endpoint),
            endpoint,
            reason=lifecycle.BY_USER,
            now=now,
            principal=principal,
        )
    await session.flush()
    await audit.record(
        session,
        "webhook_endpoint.updated",
        principal=principal,
        workspace_id=endpoint.workspace_id,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details={
            "fields": sorted(body.model_dump(exclude_unset=True)),
            "resumed_deliveries": resumed,
        },
    )
    return endpoint


async def delete_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> None:
    endpoint = await get_endpoint(session, principal, endpoint_id)
    await EndpointRepository(session).delete(endpoint)
    await audit.record(
        session,
        "webhook_endpoint.deleted",
        principal=principal,
        workspace_id=endpoint.workspace_id,
        target_type="webhook_endpoint",
        target_id=endpoint_id,
    )


async def rotate_secret(
    session: AsyncSession, principal: Principal, settings: Settings, endpoint_id: uuid.UUID
) -> EndpointWithSecret:
    """A new secret signs from now on; the old one also signs until the overlap window ends."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    secret = new_signing_secret()
    overlap = settings.webhook_secret_overlap_seconds
    if overlap > 0:
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = datetime.now(UTC) + timedelta(seconds=overlap)
    else:
        endpoint.previous_secret_encrypted = None
        endpoint.previous_secret_expires_at = None
    endpoint.secret_encrypted = encrypt_secret(settings, secret)
    await session.flush()
    await audit.record(
        session,
        "webhook_endpoint.secret_rotated",
        principal=principal,
        workspace_id=endpoint.workspace_id,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details={"overlap_seconds": overlap},
    )
    return _with_secret(endpoint, secret)


async def send_test_event(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> TestEventQueued:
    """Queue a ``webhook.test`` delivery to this one endpoint (even when it is disabled)."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    deliveries = await queue_deliveries(
        session,
        _scope(endpoint),
        [endpoint],
        EventType.TEST,
        {"endpoint_id": endpoint.id, "requested_by": principal.user_id},
    )
    delivery = deliveries[0]
    return TestEventQueued(delivery_id=delivery.id, webhook_id=message_id(delivery.id))


async def list_deliveries(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, params: PageParams
) -> DeliveryList:
    endpoint = await get_endpoint(session, principal, endpoint_id)
    repository = DeliveryRepository(session)
    page = await repository.list_for_endpoint(_scope(endpoint), endpoint.id, params)
    attempts = await AttemptRepository(session).attempts_for(
        _scope(endpoint), [d.id for d in page.items]
    )
    by_delivery: dict[uuid.UUID, list[AttemptRead]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(AttemptRead.model_validate(attempt))
    return DeliveryList(
        items=[
            DeliveryRead(
                id=d.id,
                webhook_id=message_id(d.id),
                event_type=d.event_type,
                status=d.status.value,
                attempts=d.attempts,
                last_status_code=d.last_status_code,
                created_at=d.created_at,
                completed_at=d.completed_at,
                attempt_log=by_delivery.get(d.id, []),
            )
            for d in page.items
        ],
        next_cursor=page.next_cursor,
    )


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise Conflict(
            "The endpoint is disabled: enable it, which also sends its held deliveries.",
            code="endpoint_disabled",
        )


async def redeliver(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRequeued:
    """Queue one delivery of this endpoint again, whatever its state, with its ``webhook-id``."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    _require_enabled(endpoint)
    requeued = await DeliveryRepository(session).requeue(
        _scope(endpoint),
        endpoint.id,
        statuses=list(DeliveryStatus),
        due_at=datetime.now(UTC),
        delivery_id=delivery_id,
    )
    if requeued == 0:
        raise NotFound()  # not this endpoint's (or not this caller's) delivery
    await audit.record(
        session,
        "webhook_delivery.redelivered",
        principal=principal,
        workspace_id=endpoint.workspace_id,
        target_type="webhook_delivery",
        target_id=delivery_id,
    )
    return DeliveryRequeued(delivery_id=delivery_id, webhook_id=message_id(delivery_id))


async def recover(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    endpoint_id: uuid.UUID,
    body: RecoverRequest,
) -> DeliveriesRequeued:
    """Queue again every failed or held delivery of this endpoint created since ``body.since``."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    _require_enabled(endpoint)
    now = datetime.now(UTC)
    since = body.since if body.since.tzinfo is not None else body.since.replace(tzinfo=UTC)
    if since < lifecycle.recording_cutoff(settings, now):
        raise Unprocessable(
            f"since must be within the last {settings.webhook_retention_days} days.",
            code="since_out_of_retention",
        )
    requeued = await DeliveryRepository(session).requeue(
        _scope(endpoint),
        endpoint.id,
        statuses=[DeliveryStatus.FAILED, DeliveryStatus.HELD],
        due_at=now,
        created_since=since,
    )
    await audit.record(
        session,
        "webhook_endpoint.recovered",
        principal=principal,
        workspace_id=endpoint.workspace_id,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details={"since": since.isoformat(), "requeued": requeued},
    )
    return DeliveriesRequeued(requeued=requeued)
