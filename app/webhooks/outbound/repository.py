"""SQL for endpoints, deliveries, attempts and the platform queue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, any_, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from app.core.pagination import PageParams
from app.core.repository import PageResult, Repository
from app.identity.models import User, WorkspaceMembership
from app.identity.permissions import Role
from app.webhooks.outbound.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
    WebhookQueue,
)
from app.workspaces.access import AccessibleWorkspaceID, within


class EndpointRepository(Repository[WebhookEndpoint]):
    model = WebhookEndpoint

    async def list_in(
        self, workspace_id: AccessibleWorkspaceID, params: PageParams
    ) -> PageResult[WebhookEndpoint]:
        return await self.paginate(
            select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id), params
        )

    async def get_in(
        self, workspace_id: AccessibleWorkspaceID, endpoint_id: uuid.UUID
    ) -> WebhookEndpoint | None:
        return await self.get_one_or_none(
            select(WebhookEndpoint).where(
                WebhookEndpoint.workspace_id == workspace_id, WebhookEndpoint.id == endpoint_id
            )
        )

    async def get_in_any(
        self, workspace_ids: Sequence[AccessibleWorkspaceID], endpoint_id: uuid.UUID
    ) -> WebhookEndpoint | None:
        """The endpoint if it lives in one of ``workspace_ids`` (routes by endpoint id)."""
        return await self.get_one_or_none(
            select(WebhookEndpoint).where(
                within(WebhookEndpoint.workspace_id, workspace_ids),
                WebhookEndpoint.id == endpoint_id,
            )
        )

    async def subscribed_in(
        self, workspace_id: AccessibleWorkspaceID, event_type: str, *, disabled_after: datetime
    ) -> list[WebhookEndpoint]:
        """Endpoints of this one workspace subscribed to ``event_type`` (the fan-out).

        Enabled ones, and disabled ones disabled after ``disabled_after`` (the retention window):
        their events are recorded as held and go out once the endpoint is enabled again.
        """
        return list(
            await self.get_all(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.workspace_id == workspace_id,
                    or_(
                        WebhookEndpoint.enabled.is_(True),
                        WebhookEndpoint.disabled_at > disabled_after,
                    ),
                    literal(event_type) == any_(WebhookEndpoint.event_types),
                )
            )
        )

    async def owner_emails(self, workspace_id: AccessibleWorkspaceID) -> list[str]:
        """E-mail addresses of the workspace's owners (who hear about a disabled endpoint)."""
        result = await self.session.execute(
            select(User.email)
            .join(WorkspaceMembership, WorkspaceMembership.user_id == User.id)
            .where(
                WorkspaceMembership.workspace_id == workspace_id,
                WorkspaceMembership.role == Role.OWNER,
            )
            .order_by(User.email)
        )
        return list(result.scalars().all())

    async def all_in(self, workspace_id: AccessibleWorkspaceID) -> list[WebhookEndpoint]:
        return list(
            await self.get_all(
                select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
            )
        )


@dataclass(frozen=True)
class ClaimedDelivery:
    delivery_id: uuid.UUID
    workspace_id: uuid.UUID
    next_attempt_at: datetime


class DeliveryRepository(Repository[WebhookDelivery]):
    model = WebhookDelivery

    async def enqueue(
        self,
        workspace_id: AccessibleWorkspaceID,
        deliveries: list[WebhookDelivery],
        *,
        due_at: datetime,
    ) -> None:
        for delivery in deliveries:
            if delivery.workspace_id != workspace_id:
                raise ValueError("delivery outside the workspace it is queued for")
            self.session.add(delivery)
        await self.session.flush()
        for delivery in deliveries:
            if delivery.status is not DeliveryStatus.PENDING:
                continue  # held for a disabled endpoint: queued when it is enabled again
            self.session.add(
                WebhookQueue(
                    delivery_id=delivery.id, workspace_id=workspace_id, next_attempt_at=due_at
                )
            )
        await self.session.flush()

    async def hold_pending(
        self, workspace_id: AccessibleWorkspaceID, endpoint_id: uuid.UUID, now: datetime
    ) -> int:
        """Mark the endpoint's pending deliveries held and unqueue those no worker holds now.

        A delivery in flight keeps its queue row; the worker that holds it sees the disabled
        endpoint when it records the attempt and holds it then.
        """
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.workspace_id == workspace_id,
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
            .values(status=DeliveryStatus.HELD)
            .returning(WebhookDelivery.id)
        )
        held = list(result.scalars().all())
        if held:
            await self.session.execute(
                delete(WebhookQueue).where(
                    WebhookQueue.delivery_id.in_(held),
                    or_(WebhookQueue.locked_until.is_(None), WebhookQueue.locked_until < now),
                )
            )
        return len(held)

    async def requeue(
        self,
        workspace_id: AccessibleWorkspaceID,
        endpoint_id: uuid.UUID,
        *,
        statuses: Sequence[DeliveryStatus],
        due_at: datetime,
        delivery_id: uuid.UUID | None = None,
        created_since: datetime | None = None,
    ) -> int:
        """Queue the endpoint's deliveries in ``statuses`` again (same id, same body, a fresh
        attempt budget); optionally only one delivery or those created since a time.

        One statement: the status change and the queue rows commit together. A row a worker
        holds right now keeps its lease (it is in flight; the worker records its outcome).
        """
        conditions = [
            WebhookDelivery.workspace_id == workspace_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status.in_(list(statuses)),
        ]
        if delivery_id is not None:
            conditions.append(WebhookDelivery.id == delivery_id)
        if created_since is not None:
            conditions.append(WebhookDelivery.created_at >= created_since)
        moved = (
            update(WebhookDelivery)
            .where(*conditions)
            .values(status=DeliveryStatus.PENDING, attempts=0, completed_at=None)
            .returning(WebhookDelivery.id, WebhookDelivery.workspace_id)
            .cte("moved")
        )
        queued = insert(WebhookQueue).from_select(
            ["delivery_id", "workspace_id", "next_attempt_at"],
            select(moved.c.id, moved.c.workspace_id, literal(due_at, DateTime(timezone=True))),
        )
        queued = queued.on_conflict_do_update(
            index_elements=[WebhookQueue.delivery_id],
            set_={"next_attempt_at": queued.excluded.next_attempt_at},
            where=or_(WebhookQueue.locked_until.is_(None), WebhookQueue.locked_until < due_at),
        )
        result = await self.session.execute(
            select(func.count()).select_from(moved).add_cte(queued.cte("queued"))
        )
        return int(result.scalar_one())

    async def list_for_endpoint(
        self, workspace_id: AccessibleWorkspaceID, endpoint_id: uuid.UUID, params: PageParams
    ) -> PageResult[WebhookDelivery]:
        return await self.paginate(
            select(WebhookDelivery).where(
                WebhookDelivery.workspace_id == workspace_id,
                WebhookDelivery.endpoint_id == endpoint_id,
            ),
            params,
        )

    async def get_with_endpoint(
        self, workspace_id: AccessibleWorkspaceID, delivery_id: uuid.UUID, *, lock: bool = False
    ) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
        """The delivery and its endpoint; ``lock`` row-locks both, so concurrent outcomes of
        one endpoint's deliveries update its failure streak one after the other.

        Locks are taken endpoint first, then delivery: the same order as every other writer
        (enable, disable, hold), so two of them never wait on each other in a cycle.
        """
        statement = (
            select(WebhookDelivery, WebhookEndpoint)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.workspace_id == workspace_id,
                WebhookEndpoint.workspace_id == workspace_id,
                WebhookDelivery.id == delivery_id,
            )
        )
        if lock:
            endpoint_of = (
                select(WebhookEndpoint.id)
                .where(
                    WebhookEndpoint.workspace_id == workspace_id,
                    WebhookEndpoint.id
                    == select(WebhookDelivery.endpoint_id)
                    .where(
                        WebhookDelivery.workspace_id == workspace_id,
                        WebhookDelivery.id == delivery_id,
                    )
                    .scalar_subquery(),
                )
                .with_for_update()
            )
            await self.session.execute(endpoint_of)
            statement = statement.with_for_update()
        result = await self.session.execute(statement)
        row = result.one_or_none()
        return None if row is None else (row[0], row[1])


class AttemptRepository(Repository[WebhookDeliveryAttempt]):
    """The delivery log: one row per HTTP attempt."""

    model = WebhookDeliveryAttempt

    async def attempts_for(
        self, workspace_id: AccessibleWorkspaceID, delivery_ids: Sequence[uuid.UUID]
    ) -> list[WebhookDeliveryAttempt]:
        if not delivery_ids:
            return []
        result = await self.session.execute(
            select(WebhookDeliveryAttempt)
            .where(
                WebhookDeliveryAttempt.workspace_id == workspace_id,
                WebhookDeliveryAttempt.delivery_id.in_(delivery_ids),
            )
            .order_by(WebhookDeliveryAttempt.created_at)
        )
        return list(result.scalars().all())

    async def add_attempt(
        self,
        workspace_id: AccessibleWorkspaceID,
        delivery_id: uuid.UUID,
        *,
        outcome: str,
        status_code: int | None = None,
        duration_ms: int = 0,
        response_snippet: str = "",
    ) -> None:
        """One row of the delivery log, always in the bound workspace."""
        self.session.add(
            WebhookDeliveryAttempt(
                id=uuid.uuid4(),
                workspace_id=workspace_id,
                delivery_id=delivery_id,
                status_code=status_code,
                outcome=outcome,
                duration_ms=duration_ms,
                response_snippet=response_snippet,
            )
        )
        await self.session.flush()


class QueueRepository(Repository[WebhookQueue]):
    """The platform queue (no tenant data): claims, leases, reschedules."""

    model = WebhookQueue

    async def claim_due(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due rows that no live lease holds; other workers skip them."""
        due = (
            select(WebhookQueue.delivery_id)
            .where(
                WebhookQueue.next_attempt_at <= now,
                or_(WebhookQueue.locked_until.is_(None), WebhookQueue.locked_until < now),
            )
            .order_by(WebhookQueue.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(
            update(WebhookQueue)
            .where(WebhookQueue.delivery_id.in_(due.scalar_subquery()))
            .values(locked_until=lease_until)
            .returning(
                WebhookQueue.delivery_id, WebhookQueue.workspace_id, WebhookQueue.next_attempt_at
            )
        )
        return [ClaimedDelivery(row[0], row[1], row[2]) for row in result.all()]

    async def reschedule(
        self, delivery_id: uuid.UUID, lease_until: datetime, next_attempt_at: datetime
    ) -> bool:
        """Release our lease with a new due time; False when our lease was lost meanwhile."""
        result = await self.session.execute(
            update(WebhookQueue)
            .where(
                WebhookQueue.delivery_id == delivery_id, WebhookQueue.locked_until == lease_until
            )
            .values(next_attempt_at=next_attempt_at, locked_until=None)
            .returning(WebhookQueue.delivery_id)
        )
        return result.one_or_none() is not None

    async def finish(self, delivery_id: uuid.UUID, lease_until: datetime) -> bool:
        """Remove a finished delivery's row if our lease still holds it."""
        result = await self.session.execute(
            delete(WebhookQueue)
            .where(
                WebhookQueue.delivery_id == delivery_id, WebhookQueue.locked_until == lease_until
            )
            .returning(WebhookQueue.delivery_id)
        )
        return result.one_or_none() is not None

    async def drop(self, delivery_ids: Sequence[uuid.UUID]) -> None:
        if delivery_ids:
            await self.session.execute(
                delete(WebhookQueue).where(WebhookQueue.delivery_id.in_(delivery_ids))
            )

    async def stats(self, now: datetime) -> tuple[int, float]:
        """(rows waiting, seconds since the oldest due row became due; 0 when none is due)."""
        result = await self.session.execute(
            select(
                func.count(),
                func.min(WebhookQueue.next_attempt_at).filter(WebhookQueue.next_attempt_at <= now),
            )
        )
        count, oldest = result.one()
        lag = (now - oldest).total_seconds() if oldest is not None else 0.0
        return int(count), max(lag, 0.0)
