"""An event's fan-out as data-modifying CTEs, for the statement of the change that caused it.

``emit_event`` reads the subscribed endpoints, then writes the deliveries (two statements, the
second only when there are subscribers). The chat turn, whose every statement counts
(docs/performance.md, "Round 3: the chat turn"), carries the same fan-out inside its own writes
instead: the admission statement for the user's message, the ending's for the answer.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import (
    CTE,
    DateTime,
    String,
    Text,
    Uuid,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert

from app.core.repository import Carried, Repository
from app.webhooks.outbound.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookQueue,
)
from app.workspaces.access import AccessibleWorkspaceID

_COLUMNS = ["id", "workspace_id", "endpoint_id", "event_type", "payload", "status", "attempts"]


@lru_cache(maxsize=8)  # one entry per gate: none (the admission), the ending's ``ended``
def _fan_out_ctes(gate: CTE | None) -> tuple[CTE, CTE]:
    """The two CTEs of ``FanOutRepository.fan_out``, built once per gate with every value a
    bind parameter (``fanout_*``)."""
    workspace_id = bindparam("fanout_workspace_id", type_=Uuid())
    event_type = bindparam("fanout_event_type", type_=String())
    subscribed = [
        WebhookEndpoint.workspace_id == workspace_id,
        or_(
            WebhookEndpoint.enabled.is_(True),
            WebhookEndpoint.disabled_at
            > bindparam("fanout_disabled_after", type_=DateTime(timezone=True)),
        ),
        event_type == any_(WebhookEndpoint.event_types),
    ]
    if gate is not None:
        subscribed.append(exists().select_from(gate))
    status = WebhookDelivery.__table__.c.status.type
    pending = literal(DeliveryStatus.PENDING, status)
    deliveries = (
        insert(WebhookDelivery)
        .from_select(
            _COLUMNS,
            select(
                func.gen_random_uuid(),
                workspace_id,
                WebhookEndpoint.id,
                event_type,
                case(
                    (
                        WebhookEndpoint.include_content.is_(True),
                        bindparam("fanout_payload", type_=Text()),
                    ),
                    else_=bindparam("fanout_payload_without_content", type_=Text()),
                ),
                case(
                    (WebhookEndpoint.enabled.is_(True), pending),
                    else_=literal(DeliveryStatus.HELD, status),
                ),
                literal(0),
            ).where(*subscribed),
        )
        .returning(WebhookDelivery.id, WebhookDelivery.workspace_id, WebhookDelivery.status)
        .cte("deliveries")
    )
    # Held deliveries are queued when their endpoint is enabled again, as in ``enqueue``.
    queued = insert(WebhookQueue).from_select(
        ["delivery_id", "workspace_id", "next_attempt_at"],
        select(
            deliveries.c.id,
            deliveries.c.workspace_id,
            bindparam("fanout_due_at", type_=DateTime(timezone=True)),
        ).where(deliveries.c.status == pending),
    )
    return deliveries, queued.cte("queued")


_fan_out_ctes(None)  # the admission's, built at import


class FanOutRepository(Repository[WebhookDelivery]):
    model = WebhookDelivery

    def fan_out(
        self,
        workspace_id: AccessibleWorkspaceID,
        event_type: str,
        *,
        payload: str,
        payload_without_content: str,
        disabled_after: datetime,
        due_at: datetime,
        gate: CTE | None = None,
    ) -> Carried:
        """``EndpointRepository.subscribed_in`` then ``DeliveryRepository.enqueue``, as two
        CTEs: one delivery per endpoint of this one workspace subscribed to ``event_type`` (the
        body with content only for endpoints that opted in, ``include_content``), pending and
        queued for an enabled endpoint, held for one disabled after ``disabled_after`` (the
        retention window). Filtered by workspace first; RLS filters it again. ``gate``: only
        when that CTE has a row (the turn's ending emits only for a row it ended itself); the
        CTEs are built once per gate, so a gate is a constant of its statement, too."""
        return Carried(
            ctes=_fan_out_ctes(gate),
            values={
                "fanout_workspace_id": workspace_id,
                "fanout_event_type": event_type,
                "fanout_payload": payload,
                "fanout_payload_without_content": payload_without_content,
                "fanout_disabled_after": disabled_after,
                "fanout_due_at": due_at,
            },
        )
