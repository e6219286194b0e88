from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    Row,
    Select,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from app.conversations.models import (
    Conversation,
    Message,
    MessageRole,
    MessageStatus,
    TurnLease,
)
from app.core.pagination import PageParams
from app.core.repository import Carried, PageResult, Repository, carried_values, keyset_query
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.workspaces.access import (
    AccessibleWorkspaceID,
    accessible_workspace_ids,
    within,
    within_bound,
)

# The two hot lists, built once (docs/performance.md, "Round 4"): the same scope as
# ``readable_statement`` (the caller's readable workspaces and own user id), then the page.
_CONVERSATIONS_IN = keyset_query(
    select(Conversation).where(
        within_bound(Conversation.workspace_id, "readable"),
        Conversation.user_id == bindparam("user_id"),
        Conversation.workspace_id == bindparam("workspace_id"),
    ),
    Conversation,
)
_MESSAGES_IN = keyset_query(
    select(Message).where(
        within_bound(Message.workspace_id, "readable"),
        Message.user_id == bindparam("user_id"),
        Message.conversation_id == bindparam("conversation_id"),
    ),
    Message,
)


def _scope(principal: Principal) -> dict[str, Any]:
    readable = accessible_workspace_ids(principal, WorkspacePermission.CONVERSATIONS_READ)
    return {"readable": readable, "user_id": principal.user_id}


# Writes to run in the same statement as a turn's ending, given the CTE of the ended row.
Alongside = Callable[[CTE], Carried]

# The turn's own writes of this domain, built once with every per-turn value bound
# (docs/performance.md, "Round 4"). The admission carries the conversation's touch and the
# lease; the ending is one of a small fixed set of shapes (``_ending``).
_TOUCHED = (
    update(Conversation)
    .where(
        Conversation.id == bindparam("touch_conversation_id"),
        within_bound(Conversation.workspace_id, "touch_readable"),
        Conversation.user_id == bindparam("touch_user_id"),
    )
    .values(last_message_at=bindparam("touch_at", type_=Conversation.last_message_at.type))
    .cte("touched")
)
_LEASED = (
    insert(TurnLease)
    .values(
        {
            column: bindparam(f"lease_{column}", type_=TurnLease.__table__.c[column].type)
            for column in (
                "message_id",
                "workspace_id",
                "user_id",
                "expires_at",
                "prompt_tokens",
                "streamed_chars",
            )
        }
    )
    .cte("leased")
)
# The lease goes whether or not the row was still streaming: an ended or deleted turn has
# nothing left to sweep.
_RELEASED = (
    delete(TurnLease)
    .where(TurnLease.message_id == bindparam("end_message_id"))
    .returning(TurnLease.message_id)
    .cte("released")
)


def _ending_update(*, with_content: bool) -> Any:
    """The caller's assistant message, ended if still ``streaming``: scoped by the readable
    workspaces (``end_readable``) and the caller's user id, as every read of messages."""
    column = Message.__table__.c
    values: dict[str, Any] = {
        name: bindparam(f"end_{name}", type_=column[name].type)
        for name in ("status", "error_code", "prompt_tokens", "completion_tokens")
    }
    if with_content:
        values["content"] = bindparam("end_content", type_=column["content"].type)
    return (
        update(Message)
        .where(
            within_bound(Message.workspace_id, "end_readable"),
            Message.user_id == bindparam("end_user_id"),
            Message.id == bindparam("end_message_id"),
            Message.status == MessageStatus.STREAMING,
        )
        .values(**values, updated_at=func.now())
    )


# (with content) -> the ending with no carried writes, and the ended row as a CTE for them.
_ENDING = {
    with_content: _ending_update(with_content=with_content)
    .returning(*Message.__table__.columns)
    .add_cte(_RELEASED)
    for with_content in (True, False)
}
_ENDED = {
    with_content: _ending_update(with_content=with_content)
    .returning(*Message.__table__.columns)
    .cte("ended")
    for with_content in (True, False)
}


@lru_cache(maxsize=8)  # one entry per shape: with or without content, and the fan-out's CTEs
def _ending_carrying(with_content: bool, alongside: tuple[CTE, ...]) -> Select[Any]:
    """The ending whose ended row (``_ENDED``) the carried writes depend on; read back from it."""
    ended = _ENDED[with_content]
    return select(ended).add_cte(_RELEASED, *alongside)


@dataclass(frozen=True)
class Ending:
    """A turn's final state, as its runner or the orphan sweeper writes it."""

    content: str | None  # None: the row's text stays as it is
    status: MessageStatus
    error_code: str | None
    prompt_tokens: int
    completion_tokens: int


class ConversationRepository(Repository[Conversation]):
    """Conversations are private to their user: every statement filters on both the
    accessible workspaces and the caller's own user id (and RLS enforces the same)."""

    model = Conversation

    def readable_statement(self, principal: Principal) -> Select[Conversation]:
        ids = accessible_workspace_ids(principal, WorkspacePermission.CONVERSATIONS_READ)
        return select(Conversation).where(
            within(Conversation.workspace_id, ids), Conversation.user_id == principal.user_id
        )

    async def get_readable(
        self, principal: Principal, conversation_id: uuid.UUID
    ) -> Conversation | None:
        return await self.get_one_or_none(
            self.readable_statement(principal).where(Conversation.id == conversation_id)
        )

    async def list_in(
        self, principal: Principal, workspace_id: AccessibleWorkspaceID, params: PageParams
    ) -> PageResult[Row[Any]]:
        values = {**_scope(principal), "workspace_id": workspace_id}
        return await self.page_rows(_CONVERSATIONS_IN, params, values)

    def touch_cte(self, principal: Principal, conversation_id: uuid.UUID, now: datetime) -> Carried:
        """The caller's conversation's ``last_message_at``, for the turn's admission statement
        to carry (a data-modifying CTE, built once). Scoped like every read (workspace and
        user): the caller's own conversation in a workspace they left stays untouched even
        without RLS (tests/isolation)."""
        readable = accessible_workspace_ids(principal, WorkspacePermission.CONVERSATIONS_READ)
        return Carried(
            ctes=(_TOUCHED,),
            values={
                "touch_conversation_id": conversation_id,
                "touch_readable": readable,
                "touch_user_id": principal.user_id,
                "touch_at": now,
            },
        )


class MessageRepository(Repository[Message]):
    model = Message

    def readable_statement(self, principal: Principal) -> Select[Message]:
        ids = accessible_workspace_ids(principal, WorkspacePermission.CONVERSATIONS_READ)
        return select(Message).where(
            within(Message.workspace_id, ids), Message.user_id == principal.user_id
        )

    async def list_in(
        self, principal: Principal, conversation_id: uuid.UUID, params: PageParams
    ) -> PageResult[Row[Any]]:
        values = {**_scope(principal), "conversation_id": conversation_id}
        return await self.page_rows(_MESSAGES_IN, params, values)

    async def get_by_idempotency_key(
        self, principal: Principal, conversation_id: uuid.UUID, key: str
    ) -> Message | None:
        return await self.get_one_or_none(
            self.readable_statement(principal).where(
                Message.conversation_id == conversation_id,
                Message.idempotency_key == key,
                Message.role == MessageRole.USER,
            )
        )

    async def get_reply(self, principal: Principal, user_message_id: uuid.UUID) -> Message | None:
        return await self.get_one_or_none(
            self.readable_statement(principal).where(Message.reply_to_id == user_message_id)
        )

    async def get_own(self, principal: Principal, message_id: uuid.UUID) -> Message | None:
        return await self.get_one_or_none(
            self.readable_statement(principal).where(Message.id == message_id)
        )

    async def end_streaming(
        self,
        principal: Principal,
        message_id: uuid.UUID,
        ending: Ending,
        *,
        alongside: Alongside | None = None,
    ) -> Row[Any] | None:
        """End the caller's assistant message if it is still ``streaming``, and release its
        turn lease; one statement. The UPDATE locks the row and re-checks ``streaming`` on the
        latest version, so whoever ends a turn (its runner or the orphan sweeper) ends it once;
        the other gets None. ``alongside`` adds writes to the same statement, given the CTE of
        the ended row (empty when nothing was ended): the runner's ``message.created`` fan-out,
        so a turn someone else ended emits nothing here. The statement is one of a fixed set
        built once (with or without content, with or without the carried writes); the ended
        row comes back as plain columns."""
        with_content = ending.content is not None
        values: dict[str, Any] = {
            "end_readable": accessible_workspace_ids(
                principal, WorkspacePermission.CONVERSATIONS_READ
            ),
            "end_user_id": principal.user_id,
            "end_message_id": message_id,
            "end_status": ending.status,
            "end_error_code": ending.error_code,
            "end_prompt_tokens": ending.prompt_tokens,
            "end_completion_tokens": ending.completion_tokens,
            **({"end_content": ending.content} if with_content else {}),
        }
        if alongside is None:
            statement: Any = _ENDING[with_content]
        else:
            writes = alongside(_ENDED[with_content])
            statement = _ending_carrying(with_content, writes.ctes)
            values.update(carried_values((writes,)))
        connection = await self.session.connection()
        return (await connection.execute(statement, values)).one_or_none()

    async def end_streaming_in(
        self, workspace_id: AccessibleWorkspaceID, message_id: uuid.UUID, ending: Ending
    ) -> Message | None:
        """The worker's variant of ``end_streaming``: RLS is bound to this workspace and the
        message's owner (``bind_worker_scope``), and the statement names the workspace too."""
        # Off the turn's hot path (the orphan sweeper): built per call, as before.
        released = (
            delete(TurnLease)
            .where(TurnLease.message_id == message_id)
            .returning(TurnLease.message_id)
            .cte("released")
        )
        update_ = (
            update(Message)
            .where(
                Message.workspace_id == workspace_id,
                Message.id == message_id,
                Message.status == MessageStatus.STREAMING,
            )
            .values(
                **({} if ending.content is None else {"content": ending.content}),
                status=ending.status,
                error_code=ending.error_code,
                prompt_tokens=ending.prompt_tokens,
                completion_tokens=ending.completion_tokens,
                updated_at=func.now(),
            )
        )
        statement = (
            update_.returning(Message)
            .add_cte(released)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def search(
        self, principal: Principal, workspace_id: AccessibleWorkspaceID, query: str, limit: int
    ) -> Sequence[Message]:
        """Substring search over the caller's own messages in one workspace."""
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = (
            self.readable_statement(principal)
            .where(
                Message.workspace_id == workspace_id,
                or_(Message.content.ilike(f"%{escaped}%", escape="\\")),
            )
            .order_by(Message.created_at.desc())
            .limit(limit)
        )
        return await self.get_all(statement)


class TurnLeaseRepository(Repository[TurnLease]):
    """The platform table of streaming turns' leases (ids and times only)."""

    model = TurnLease

    def create_cte(self, lease: TurnLease) -> Carried:
        """The lease's INSERT, for the turn's admission statement to carry (a data-modifying
        CTE, built once): the lease exists exactly when the turn was admitted."""
        return Carried(
            ctes=(_LEASED,),
            values={
                "lease_message_id": lease.message_id,
                "lease_workspace_id": lease.workspace_id,
                "lease_user_id": lease.user_id,
                "lease_expires_at": lease.expires_at,
                "lease_prompt_tokens": lease.prompt_tokens,
                "lease_streamed_chars": lease.streamed_chars,
            },
        )

    async def renew(self, message_id: uuid.UUID, expires_at: datetime, streamed_chars: int) -> None:
        """One small indexed UPDATE: the only write a healthy streaming turn makes."""
        await self.session.execute(
            update(TurnLease)
            .where(TurnLease.message_id == message_id)
            .values(expires_at=expires_at, streamed_chars=streamed_chars)
        )

    async def claim_expired(
        self, now: datetime, *, limit: int, hold_until: datetime
    ) -> Sequence[TurnLease]:
        """Leases that passed, locked with SKIP LOCKED (other workers take others) and pushed to
        ``hold_until``, so a worker that dies mid-sweep gives them back."""
        leases = await self.get_all(
            select(TurnLease)
            .where(TurnLease.expires_at <= now)
            .order_by(TurnLease.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        for lease in leases:
            lease.expires_at = hold_until
        await self.session.flush()
        return leases

    async def release(self, message_id: uuid.UUID) -> None:
        await self.session.execute(delete(TurnLease).where(TurnLease.message_id == message_id))
