from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import CTE, BigInteger, Date, Insert, Uuid, bindparam, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert

from app.core.repository import Carried, Repository, carried_values
from app.usage.models import UsageReservation, WorkspaceUsage
from app.workspaces.access import AccessibleWorkspaceID


@dataclass(frozen=True)
class Charged:
    """What a settled turn was charged (for the token metrics)."""

    prompt: int
    completion: int


# The turn's two ledger statements, built once (docs/performance.md, "Round 4"): every per-turn
# value is a bind parameter (``usage_*``, ``settle_*``).
@lru_cache(maxsize=8)  # one entry per set of carried writes: the turn's, a probe's, none
def _reserve_statement(alongside: tuple[CTE, ...]) -> Insert:
    """``UsageRepository.reserve``'s statement, carrying ``alongside``."""
    tokens = bindparam("usage_tokens", type_=BigInteger())
    statement = insert(WorkspaceUsage).values(
        workspace_id=bindparam("usage_workspace_id", type_=Uuid()),
        day=bindparam("usage_day", type_=Date()),
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
                < bindparam("usage_budget", type_=BigInteger())
            ),
        )
        .returning(WorkspaceUsage.workspace_id, WorkspaceUsage.day)
        .cte("admitted")
    )
    return (
        insert(UsageReservation)
        .from_select(
            ["message_id", "workspace_id", "day", "reserved_tokens", "prompt_estimate"],
            select(
                bindparam("usage_message_id", type_=Uuid()),
                admitted.c.workspace_id,
                admitted.c.day,
                tokens,
                bindparam("usage_prompt_estimate", type_=BigInteger()),
            ),
        )
        .returning(UsageReservation.message_id)
        .add_cte(admitted, *alongside)
    )


def _settle_statement(*, charge_estimate: bool) -> Any:
    """``UsageReservationRepository.settle_turn``'s statement: charging the bound prompt
    (``settle_prompt``), or the estimate held with the reservation (the provider reported
    nothing)."""
    workspace_id = bindparam("settle_workspace_id", type_=Uuid())
    taken = (
        delete(UsageReservation)
        .where(
            UsageReservation.workspace_id == workspace_id,
            UsageReservation.message_id == bindparam("settle_message_id", type_=Uuid()),
        )
        .returning(
            UsageReservation.day,
            UsageReservation.reserved_tokens,
            UsageReservation.prompt_estimate,
        )
        .cte("taken")
    )
    charged_prompt = (
        taken.c.prompt_estimate
        if charge_estimate
        else bindparam("settle_prompt", type_=BigInteger())
    )
    charge = select(
        taken.c.day,
        taken.c.reserved_tokens.label("released"),
        charged_prompt.label("prompt"),
        bindparam("settle_completion", type_=BigInteger()).label("completion"),
    ).cte("charge")
    statement = insert(WorkspaceUsage).from_select(
        ["workspace_id", "day", "prompt_tokens", "completion_tokens", "reserved_tokens"],
        select(
            workspace_id,
            charge.c.day,
            charge.c.prompt,
            charge.c.completion,
            literal(0, BigInteger()),
        ),
    )
    return (
        statement.on_conflict_do_update(
            index_elements=[WorkspaceUsage.workspace_id, WorkspaceUsage.day],
            set_={
                "prompt_tokens": WorkspaceUsage.prompt_tokens + statement.excluded.prompt_tokens,
                "completion_tokens": WorkspaceUsage.completion_tokens
                + statement.excluded.completion_tokens,
                # Never below zero, even for a ledger edited by hand.
                "reserved_tokens": func.greatest(
                    WorkspaceUsage.reserved_tokens - select(charge.c.released).scalar_subquery(),
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


_SETTLE = _settle_statement(charge_estimate=False)
_SETTLE_CHARGING_ESTIMATE = _settle_statement(charge_estimate=True)


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
        alongside: Sequence[Carried] = (),
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
        with its transaction (the caller raises). The statement is built once per set of carried
        writes (``_reserve_statement``); this call only binds values.
        """
        values = {
            "usage_workspace_id": workspace_id,
            "usage_message_id": message_id,
            "usage_day": day,
            "usage_tokens": tokens,
            "usage_budget": budget,
            "usage_prompt_estimate": prompt_estimate,
            **carried_values(alongside),
        }
        statement = _reserve_statement(tuple(cte for write in alongside for cte in write.ctes))
        connection = await self.session.connection()
        return (await connection.execute(statement, values)).first() is not None


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
        statement = _SETTLE_CHARGING_ESTIMATE if prompt <= 0 else _SETTLE
        values = {
            "settle_workspace_id": workspace_id,
            "settle_message_id": message_id,
            "settle_completion": completion,
            **({"settle_prompt": prompt} if prompt > 0 else {}),
        }
        connection = await self.session.connection()
        row = (await connection.execute(statement, values)).first()
        return None if row is None else Charged(prompt=int(row[0]), completion=int(row[1]))
