from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import BigInteger, Uuid, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert

from app.core.repository import Repository
from app.usage.models import UsageReservation, WorkspaceUsage
from app.workspaces.access import AccessibleWorkspaceID


@dataclass(frozen=True)
class Held:
    """A turn's reservation as it was taken back at settlement."""

    day: date
    reserved_tokens: int
    prompt_estimate: int


class UsageRepository(Repository[WorkspaceUsage]):
    model = WorkspaceUsage

    async def spent(self, workspace_id: AccessibleWorkspaceID, day: date) -> int:
        statement = select(
            func.coalesce(WorkspaceUsage.prompt_tokens + WorkspaceUsage.completion_tokens, 0)
        ).where(WorkspaceUsage.workspace_id == workspace_id, WorkspaceUsage.day == day)
        value = (await self.session.execute(statement)).scalar_one_or_none()
        return int(value or 0)

    async def reserve(
        self,
        workspace_id: AccessibleWorkspaceID,
        message_id: uuid.UUID,
        day: date,
        *,
        tokens: int,
        budget: int,
        prompt_estimate: int,
    ) -> bool:
        """Add ``tokens`` to the day's reservations if any budget is left, and hold them for the
        turn ``message_id`` (its ``usage_reservation`` row); one statement.

        The upsert locks the day's row and evaluates its ``WHERE`` on the latest committed
        version (not the statement's snapshot), so concurrent sends of a workspace are admitted
        one after the other, each seeing every reservation admitted before it. A turn is admitted
        while settled + reserved is still below the budget: only the turn that crosses the line
        can overshoot, by at most its own reservation. A first turn of the day is always
        admitted (the caller refuses a zero budget before calling). The hold is inserted from
        the upsert's ``RETURNING`` (a data-modifying CTE): no admission, no hold, and no second
        round trip for it.
        """
        statement = insert(WorkspaceUsage).values(
            workspace_id=workspace_id,
            day=day,
            prompt_tokens=0,
            completion_tokens=0,
            reserved_tokens=tokens,
        )
        admitted = (
            statement.on_conflict_do_update(
                index_elements=[WorkspaceUsage.workspace_id, WorkspaceUsage.day],
                set_={
                    "reserved_tokens": WorkspaceUsage.reserved_tokens
                    + statement.excluded.reserved_tokens,
                    "updated_at": func.now(),
                },
                where=(
                    WorkspaceUsage.prompt_tokens
                    + WorkspaceUsage.completion_tokens
                    + WorkspaceUsage.reserved_tokens
                    < budget
                ),
            )
            .returning(WorkspaceUsage.workspace_id, WorkspaceUsage.day)
            .cte("admitted")
        )
        hold = (
            insert(UsageReservation)
            .from_select(
                ["message_id", "workspace_id", "day", "reserved_tokens", "prompt_estimate"],
                select(
                    literal(message_id, Uuid()),
                    admitted.c.workspace_id,
                    admitted.c.day,
                    literal(tokens, BigInteger()),
                    literal(prompt_estimate, BigInteger()),
                ),
            )
            .returning(UsageReservation.message_id)
            .add_cte(admitted)
        )
        return (await self.session.execute(hold)).first() is not None

    async def settle(
        self,
        workspace_id: AccessibleWorkspaceID,
        day: date,
        *,
        released: int,
        prompt: int,
        completion: int,
    ) -> None:
        """Release a reservation and charge what the turn used, on the reservation's day."""
        statement = insert(WorkspaceUsage).values(
            workspace_id=workspace_id,
            day=day,
            prompt_tokens=prompt,
            completion_tokens=completion,
            reserved_tokens=0,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[WorkspaceUsage.workspace_id, WorkspaceUsage.day],
            set_={
                "prompt_tokens": WorkspaceUsage.prompt_tokens + statement.excluded.prompt_tokens,
                "completion_tokens": WorkspaceUsage.completion_tokens
                + statement.excluded.completion_tokens,
                # Never below zero, even for a ledger edited by hand.
                "reserved_tokens": func.greatest(WorkspaceUsage.reserved_tokens - released, 0),
                "updated_at": func.now(),
            },
        )
        await self.session.execute(statement)


class UsageReservationRepository(Repository[UsageReservation]):
    model = UsageReservation

    async def take(self, workspace_id: AccessibleWorkspaceID, message_id: uuid.UUID) -> Held | None:
        """Delete and return a turn's reservation; a second taker (already settled) gets None."""
        statement = (
            delete(UsageReservation)
            .where(
                UsageReservation.workspace_id == workspace_id,
                UsageReservation.message_id == message_id,
            )
            .returning(
                UsageReservation.day,
                UsageReservation.reserved_tokens,
                UsageReservation.prompt_estimate,
            )
        )
        row = (await self.session.execute(statement)).first()
        if row is None:
            return None
        return Held(
            day=row.day, reserved_tokens=row.reserved_tokens, prompt_estimate=row.prompt_estimate
        )
