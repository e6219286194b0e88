"""Inbound webhooks: public, authenticated by the Standard Webhooks signature of each source."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.core.db import SessionDep
from app.core.openapi import responses
from app.webhooks.inbound import service as inbound_service
from app.webhooks.inbound.schemas import InboundAccepted
from app.webhooks.inbound.verification import VerifiedEventDep

router = APIRouter(tags=["webhooks"])


@router.post(
    "/v1/webhooks/inbound/{source}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InboundAccepted,
    summary="Receive a signed webhook",
    responses={
        200: {"model": InboundAccepted, "description": "A replay: acknowledged, not reprocessed"},
        **responses(400, 401, 404, 413, 429, 503),
    },
)
async def receive_webhook(
    event: VerifiedEventDep, session: SessionDep, response: Response
) -> InboundAccepted:
    """Verify, store once per webhook-id (202), acknowledge a replay without reprocessing (200)."""
    result = await inbound_service.store_event(session, event)
    if result.status == "duplicate":
        response.status_code = status.HTTP_200_OK
    return result
