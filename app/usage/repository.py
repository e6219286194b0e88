from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import CTE, BigInteger, Uuid, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert

from app.core.repository import Repository
from app.usage.models import UsageReservation, WorkspaceUsage
from app.workspaces.access import AccessibleWorkspaceID


@dataclass(frozen=True)
class Charged:
    """What a settled turn was charged (for the token metrics)."""

    prompt: int
    completion: int


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
        alongside: Sequence[CTE] = (),
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
        round trip for it. ``alongside``: the turn's other writes (its lease, the conversation's
        touch, the webhook fan-out), run by the same statement; a refused turn rolls them back
        with its transaction (the caller raises).
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
            .add_cte(admitted, *alongside)
        )
        return (await self.session.execute(hold)).first() is not None


class UsageReservationRepository(Repository[UsageReservation]):
    """A turn's hold on the day's budget, settled once when the turn ends."""

    model = UsageReservation

    async def settle_turn(
        self,
        workspace_id: AccessibleWorkspaceID,
        message_id: uuid.UUID,
        *,
        prompt: int,
        completion: int,
    ) -> Charged | None:
        """Take back the turn ``message_id``'s reservation, release it from its day's row and
        charge the turn there; one statement. ``prompt`` 0 (the provider reported nothing)
        charges the prompt estimate held with the reservation. None, and nothing charged, when
        the reservation is already gone: whoever ends a turn first settles it, once.

        The hold is deleted in a data-modifying CTE and the day's row upserted from what it
        returned, so the ledger row is locked only by this, the ending's last statement.
        """
        taken = (
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
            .cte("taken")
        )
        charged_prompt = literal(prompt, BigInteger()) if prompt > 0 else taken.c.prompt_estimate
        charge = select(
            taken.c.day,
            taken.c.reserved_tokens.label("released"),
            charged_prompt.label("prompt"),
            literal(completion, BigInteger()).label("completion"),
        ).cte("charge")
        statement = insert(WorkspaceUsage).from_select(
            ["workspace_id", "day", "prompt_tokens", "completion_tokens", "reserved_tokens"],
            select(
                literal(workspace_id, Uuid()),
                charge.c.day,
                charge.c.prompt,
                charge.c.completion,
                literal(0, BigInteger()),
            ),
        )
        settled = (
            statement.on_conflict_do_update(
                index_elements=[WorkspaceUsage.workspace_id, WorkspaceUsage.day],
                set_={
                    "prompt_tokens": WorkspaceUsage.prompt_tokens
                    + statement.excluded.prompt_tokens,
                    "completion_tokens": WorkspaceUsage.completion_tokens
                    + statement.excluded.completion_tokens,
                    # Never below zero, even for a ledger edited by hand.
                    "reserved_tokens": func.greatest(
                        WorkspaceUsage.reserved_tokens
                        - select(charge.c.released).scalar_subquery(),
                        0,
                    ),
                    "updated_at": func.now(),
                },
            )
            .returning(
                select(charge.c.prompt).scalar_subquery(),
                select(charge.c.completion).scalar_subquery(),
            )
            .add_cte(taken)
            .add_cte(charge)
        )
        row = (await self.session.execute(settled)).first()
        return None if row is None else Charged(prompt=int(row[0]), completion=int(row[1]))
