"""Webhook endpoints of a workspace: owners and admins (or a ``webhooks:manage`` key) only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.pagination import PageParams, page_params
from app.core.rate_limit import Budget
from app.identity.dependencies import AnyPrincipal, SettingsDep, require_fresh_factor
from app.identity.rate_limits import limit_by_user
from app.webhooks.outbound import service as endpoint_service
from app.webhooks.outbound.schemas import (
    DeliveriesRequeued,
    DeliveryList,
    DeliveryRequeued,
    EndpointCreate,
    EndpointList,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
    RecoverRequest,
    TestEventQueued,
)

router = APIRouter(tags=["webhooks"])


@router.post(
    "/v1/workspaces/{workspace_id}/webhook-endpoints",
    dependencies=[Depends(require_fresh_factor)],
    status_code=status.HTTP_201_CREATED,
    response_model=EndpointWithSecret,
    summary="Register a webhook endpoint",
    responses=responses(401, 403, 404, 422),
)
async def create_webhook_endpoint(
    workspace_id: uuid.UUID,
    body: EndpointCreate,
    principal: AnyPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> EndpointWithSecret:
    """Register a receiver URL (checked by the outbound guard); the secret is shown only here."""
    return await endpoint_service.create_endpoint(session, principal, settings, workspace_id, body)


@router.get(
    "/v1/workspaces/{workspace_id}/webhook-endpoints",
    response_model=EndpointList,
    summary="List webhook endpoints",
    responses=responses(401, 403, 404, 422),
)
async def list_webhook_endpoints(
    workspace_id: uuid.UUID,
    principal: AnyPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> EndpointList:
    """Endpoints of the workspace (never their secrets)."""
    return await endpoint_service.list_endpoints(session, principal, workspace_id, page)


@router.get(
    "/v1/webhook-endpoints/{endpoint_id}",
    response_model=EndpointRead,
    summary="Get a webhook endpoint",
    responses=responses(401, 404),
)
async def get_webhook_endpoint(
    endpoint_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep
) -> EndpointRead:
    """One endpoint."""
    endpoint = await endpoint_service.get_endpoint(session, principal, endpoint_id)
    return EndpointRead.model_validate(endpoint)


@router.patch(
    "/v1/webhook-endpoints/{endpoint_id}",
    dependencies=[Depends(require_fresh_factor)],
    response_model=EndpointRead,
    summary="Change or disable a webhook endpoint",
    responses=responses(401, 404, 422),
)
async def update_webhook_endpoint(
    endpoint_id: uuid.UUID,
    body: EndpointUpdate,
    principal: AnyPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> EndpointRead:
    """Change the URL (checked again), events, content opt-in, or enable/disable it."""
    endpoint = await endpoint_service.update_endpoint(
        session, principal, settings, endpoint_id, body
    )
    return EndpointRead.model_validate(endpoint)


@router.delete(
    "/v1/webhook-endpoints/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook endpoint",
    responses=responses(401, 404),
)
async def delete_webhook_endpoint(
    endpoint_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep
) -> Response:
    """Delete the endpoint, its pending deliveries and its delivery log."""
    await endpoint_service.delete_endpoint(session, principal, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
    dependencies=[Depends(require_fresh_factor)],
    response_model=EndpointWithSecret,
    summary="Rotate the signing secret",
    responses=responses(401, 404),
)
async def rotate_webhook_secret(
    endpoint_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep, settings: SettingsDep
) -> EndpointWithSecret:
    """A new secret (shown only here); the old one keeps signing during the overlap window."""
    return await endpoint_service.rotate_secret(session, principal, settings, endpoint_id)


@router.post(
    "/v1/webhook-endpoints/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestEventQueued,
    summary="Send a test event",
    responses=responses(401, 404),
)
async def send_webhook_test(
    endpoint_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep
) -> TestEventQueued:
    """Queue a signed ``webhook.test`` delivery; its outcome appears in the delivery log."""
    return await endpoint_service.send_test_event(session, principal, endpoint_id)


@router.get(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries",
    response_model=DeliveryList,
    summary="Read the delivery log",
    responses=responses(401, 404, 422),
)
async def list_webhook_deliveries(
    endpoint_id: uuid.UUID,
    principal: AnyPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> DeliveryList:
    """Deliveries, newest first, each with its attempts (status, duration, response snippet)."""
    return await endpoint_service.list_deliveries(session, principal, endpoint_id, page)


@router.post(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    dependencies=[Depends(limit_by_user(Budget.WEBHOOK_REPLAY))],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRequeued,
    summary="Redeliver one delivery",
    responses=responses(401, 404, 409, 429, 503),
)
async def redeliver_webhook(
    endpoint_id: uuid.UUID, delivery_id: uuid.UUID, principal: AnyPrincipal, session: SessionDep
) -> DeliveryRequeued:
    """Queue the delivery again (any state) with the same body and ``webhook-id``."""
    return await endpoint_service.redeliver(session, principal, endpoint_id, delivery_id)


@router.post(
    "/v1/webhook-endpoints/{endpoint_id}/recover",
    dependencies=[Depends(limit_by_user(Budget.WEBHOOK_REPLAY))],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveriesRequeued,
    summary="Recover failed deliveries since a time",
    responses=responses(401, 404, 409, 422, 429, 503),
)
async def recover_webhooks(
    endpoint_id: uuid.UUID,
    body: RecoverRequest,
    principal: AnyPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> DeliveriesRequeued:
    """Queue again every failed or held delivery created since ``since`` (same ``webhook-id``)."""
    return await endpoint_service.recover(session, principal, settings, endpoint_id, body)
