"""Read paths of every tenant repository, with RLS off: B's ids find nothing, A's own do.

Each probe is registered with the methods it ``covers`` (tests/isolation/app_filters.py); the
runner is tests/isolation/test_app_filters_alone.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.api_keys.repository import ApiKeyRepository
from app.bots.repository import BotRepository
from app.chat.repository import TurnRepository
from app.conversations.models import MessageStatus
from app.conversations.repository import ConversationRepository, Ending, MessageRepository
from app.core.security import token_hash
from app.files.repository import FileRepository, MessageFileRepository
from app.identity.credentials import SESSION_PURPOSE
from app.identity.models import Workspace
from app.identity.permissions import Role
from app.identity.repository import PrincipalContextRepository
from app.invitations.repository import InvitationRepository
from app.tools.repository import NoteRepository, ToolCallRepository
from app.usage.repository import UsageRepository
from app.webhooks.outbound.repository import (
    AttemptRepository,
    DeliveryRepository,
    EndpointRepository,
)
from app.workspaces.repository import MembershipRepository, WorkspaceRepository
from tests.isolation.app_filters import PAGE, Ctx, covers, ids, workspaces
from tests.isolation.seed import EVENT, SEARCH_WORD, SECRET, Person


@covers(WorkspaceRepository.readable_statement, WorkspaceRepository.get_readable)
@covers(WorkspaceRepository.list_readable)
async def workspaces_of_a(c: Ctx) -> None:
    repo = WorkspaceRepository(c.session)
    everything = (await c.session.scalars(repo.readable_statement(c.member))).all()
    assert ids(everything) == {c.a.workspace_id}
    assert await repo.get_readable(c.member, c.b.workspace_id) is None
    assert await repo.get_readable(c.member, c.a.workspace_id) is not None
    assert ids((await repo.list_readable(c.member, PAGE)).items) == {c.a.workspace_id}


@covers(MembershipRepository.list_members, MembershipRepository.get_member)
@covers(MembershipRepository.is_member, MembershipRepository.owner_ids)
async def memberships_of_a(c: Ctx) -> None:
    repo = MembershipRepository(c.session)
    members, _ = await repo.list_members(c.ws, PAGE)
    assert {user.id for _, user in members} == {c.a.owner.user_id, c.a.member.user_id}
    assert await repo.get_member(c.ws, c.b.member.user_id) is None
    assert await repo.get_member(c.ws, c.a.member.user_id) is not None
    assert not await repo.is_member(c.ws, c.b.member.email)
    assert await repo.is_member(c.ws, c.a.member.email)
    assert list(await repo.owner_ids(c.ws)) == [c.a.owner.user_id]


def _session_hashes(person: Person) -> list[bytes]:
    return [token_hash(SECRET.encode(), SESSION_PURPOSE, person.session_token)]


@covers(PrincipalContextRepository.authenticate_session)
async def bound_memberships(c: Ctx) -> None:
    """A's member's session binds A, their only membership, and nothing of B."""
    repo = PrincipalContextRepository(c.session)
    found = await repo.authenticate_session(_session_hashes(c.a.member), datetime.now(UTC))
    assert found is not None
    assert found[2].roles == {c.a.workspace_id: Role.MEMBER}


@covers(PrincipalContextRepository.authenticate_session)
async def second_factor_policy(c: Ctx) -> None:
    """Withholds only the caller's own workspaces that require a factor, never reads B's."""
    repo = PrincipalContextRepository(c.session)
    now = datetime.now(UTC)
    free = await repo.authenticate_session(_session_hashes(c.a.member), now)
    assert free is not None
    assert (free[2].roles, free[2].withheld) == ({c.a.workspace_id: Role.MEMBER}, frozenset())
    own = update(Workspace).where(Workspace.id == c.a.workspace_id)
    await c.session.execute(own.values(require_second_factor=True))
    held = await repo.authenticate_session(_session_hashes(c.a.member), now)
    assert held is not None
    assert held[2].roles == {}
    assert held[2].withheld == {c.a.workspace_id}


@covers(ApiKeyRepository.list_in, ApiKeyRepository.get_in)
async def api_keys(c: Ctx) -> None:
    repo = ApiKeyRepository(c.session)
    assert ids((await repo.list_in(c.ws, PAGE)).items) == {c.a.api_key_id}
    assert await repo.get_in(c.ws, c.b.api_key_id) is None
    assert await repo.get_in(c.ws, c.a.api_key_id) is not None


@covers(BotRepository.readable_statement, BotRepository.get_readable)
@covers(BotRepository.get_for_chat, BotRepository.list_in)
async def bots(c: Ctx) -> None:
    repo = BotRepository(c.session)
    assert ids((await c.session.scalars(repo.readable_statement(c.member))).all()) == {c.a.bot_id}
    assert await repo.get_readable(c.member, c.b.bot_id) is None
    assert await repo.get_for_chat(c.member, c.b.bot_id) is None
    assert await repo.get_for_chat(c.member, c.a.bot_id) is not None
    assert ids((await repo.list_in(c.member, c.ws, PAGE)).items) == {c.a.bot_id}
    assert (await repo.list_in(c.member, c.b_ws, PAGE)).items == []


@covers(ConversationRepository.readable_statement, ConversationRepository.get_readable)
@covers(ConversationRepository.list_in)
async def own_conversations_only(c: Ctx) -> None:
    """A's member sees their own conversation: not B's, not A's owner's, and not their own old
    one in B (a workspace they no longer belong to)."""
    repo = ConversationRepository(c.session)
    mine, left_behind = c.a.member.conversation_id, c.left_behind[0]
    rows = (await c.session.scalars(repo.readable_statement(c.member))).all()
    assert ids(rows) == {mine}
    for foreign in (c.b.member.conversation_id, c.a.owner.conversation_id, left_behind):
        assert await repo.get_readable(c.member, foreign) is None
    assert await repo.get_readable(c.member, mine) is not None
    assert ids((await repo.list_in(c.member, c.ws, PAGE)).items) == {mine}
    assert ids((await repo.list_in(c.owner, c.ws, PAGE)).items) == {c.a.owner.conversation_id}
    assert (await repo.list_in(c.member, c.b_ws, PAGE)).items == []


@covers(MessageRepository.readable_statement, MessageRepository.list_in)
@covers(MessageRepository.get_by_idempotency_key)
@covers(MessageRepository.get_reply, MessageRepository.get_own, MessageRepository.search)
async def own_messages_only(c: Ctx) -> None:
    repo, me = MessageRepository(c.session), c.a.member
    rows = (await c.session.scalars(repo.readable_statement(c.member))).all()
    assert ids(rows) == {me.message_id, me.reply_id}
    old_conversation, old_message = c.left_behind
    assert (await repo.list_in(c.member, old_conversation, PAGE)).items == []
    assert await repo.get_own(c.member, old_message) is None
    for other in (c.b.member, c.a.owner):
        assert (await repo.list_in(c.member, other.conversation_id, PAGE)).items == []
        key = other.idempotency_key
        assert await repo.get_by_idempotency_key(c.member, other.conversation_id, key) is None
        assert await repo.get_reply(c.member, other.message_id) is None
        assert await repo.get_own(c.member, other.message_id) is None
    assert len((await repo.list_in(c.member, me.conversation_id, PAGE)).items) == 2
    found = await repo.get_by_idempotency_key(c.member, me.conversation_id, me.idempotency_key)
    assert found is not None
    assert await repo.get_reply(c.member, me.message_id) is not None
    assert ids(await repo.search(c.member, c.ws, SEARCH_WORD, 50)) == {me.message_id, me.reply_id}
    assert await repo.search(c.member, c.b_ws, SEARCH_WORD, 50) == []


@covers(TurnRepository.conversation_with_bot, TurnRepository.history)
async def turn_reads(c: Ctx) -> None:
    """A turn's own reads: the caller's conversation with its bot, its history with the
    attachment flag; nothing of B's, A's owner's, or the caller's own old one in B."""
    repo, me = TurnRepository(c.session), c.a.member
    for other in (c.b.member.conversation_id, c.a.owner.conversation_id, c.left_behind[0]):
        assert await repo.conversation_with_bot(c.member, other) is None
        assert await repo.history(c.member, other, 50) == []
    found = await repo.conversation_with_bot(c.member, me.conversation_id)
    assert found is not None
    assert (found[0].id, found[1] and found[1].id) == (me.conversation_id, c.a.bot_id)
    assert [
        (m.id, attached) for m, attached in await repo.history(c.member, me.conversation_id, 50)
    ] == [(me.message_id, True)]


@covers(MessageRepository.end_streaming)
async def streaming_replies(c: Ctx) -> None:
    repo, ending = MessageRepository(c.session), Ending(None, MessageStatus.FAILED, "x", 0, 0)
    for other in (c.b.member, c.a.owner):
        assert await repo.end_streaming(c.member, other.reply_id, ending) is None
    assert await repo.end_streaming(c.member, c.a.member.reply_id, ending) is not None


@covers(MessageRepository.end_streaming_in)
async def streaming_replies_of_the_worker(c: Ctx) -> None:
    repo, ending = MessageRepository(c.session), Ending(None, MessageStatus.FAILED, "x", 0, 0)
    assert await repo.end_streaming_in(c.ws, c.b.member.reply_id, ending) is None
    assert await repo.end_streaming_in(c.ws, c.a.member.reply_id, ending) is not None


@covers(FileRepository.readable_statement, FileRepository.get_readable)
@covers(FileRepository.list_in, FileRepository.readable_in, FileRepository.text_candidates)
@covers(FileRepository.get_for_scan, FileRepository.used_bytes, FileRepository.lock_quota)
async def files(c: Ctx) -> None:
    repo = FileRepository(c.session)
    own = {c.a.member.file_id, c.a.owner.file_id}
    assert ids((await c.session.scalars(repo.readable_statement(c.member))).all()) == own
    assert await repo.get_readable(c.member, c.b.member.file_id) is None
    assert await repo.get_readable(c.member, c.a.owner.file_id) is not None  # workspace files
    assert ids((await repo.list_in(c.member, c.ws, PAGE)).items) == own
    assert (await repo.list_in(c.member, c.b_ws, PAGE)).items == []
    asked = [c.b.member.file_id, c.b.owner.file_id, c.a.member.file_id]
    assert ids(await repo.readable_in(c.member, c.ws, asked)) == {c.a.member.file_id}
    assert await repo.readable_in(c.member, c.b_ws, asked) == []
    assert ids(await repo.text_candidates(c.member, c.ws, 50)) == own
    assert await repo.text_candidates(c.member, c.b_ws, 50) == []
    assert await repo.get_for_scan(c.ws, c.b.member.file_id) is None
    assert await repo.get_for_scan(c.ws, c.a.member.file_id) is not None
    assert await repo.used_bytes(c.ws) == 200  # two seeded files of 100 bytes: not B's
    assert await repo.lock_quota(c.ws) == 200


@covers(MessageFileRepository.attached_files)
async def attachments(c: Ctx) -> None:
    repo = MessageFileRepository(c.session)
    asked = [c.a.member.message_id, c.a.owner.message_id, c.b.member.message_id]
    found = await repo.attached_files(c.member, c.ws, asked)
    assert [(m, f.id) for m, f in found] == [(c.a.member.message_id, c.a.member.file_id)]
    assert await repo.attached_files(c.member, c.b_ws, asked) == []


@covers(ToolCallRepository.readable_statement, ToolCallRepository.list_for_conversation)
@covers(ToolCallRepository.any_for_conversation, ToolCallRepository.list_for_message)
async def tool_calls(c: Ctx) -> None:
    """Members see their own tool calls; A's owner sees all of A's (review), none of B's."""
    repo, me, boss = ToolCallRepository(c.session), c.a.member, c.a.owner
    assert ids((await c.session.scalars(repo.readable_statement(c.member))).all()) == {
        me.tool_call_id
    }
    every_a = {me.tool_call_id, boss.tool_call_id}
    assert ids((await c.session.scalars(repo.readable_statement(c.owner))).all()) == every_a
    for caller in (c.member, c.owner):
        foreign = c.b.member
        assert (await repo.list_for_conversation(caller, foreign.conversation_id, PAGE)).items == []
        assert not await repo.any_for_conversation(caller, foreign.conversation_id)
        assert await repo.list_for_message(caller, foreign.reply_id) == []
    assert not await repo.any_for_conversation(c.member, boss.conversation_id)
    assert await repo.list_for_message(c.member, boss.reply_id) == []
    assert await repo.any_for_conversation(c.owner, me.conversation_id)  # the admin review
    assert ids(await repo.list_for_message(c.member, me.reply_id)) == {me.tool_call_id}
    page = await repo.list_for_conversation(c.member, me.conversation_id, PAGE)
    assert ids(page.items) == {me.tool_call_id}


@covers(NoteRepository.readable_statement, NoteRepository.list_readable)
async def notes(c: Ctx) -> None:
    repo = NoteRepository(c.session)
    own = {c.a.member.note_id, c.a.owner.note_id}  # notes belong to the workspace
    assert ids((await c.session.scalars(repo.readable_statement(c.member))).all()) == own
    assert ids((await repo.list_readable(c.member, PAGE)).items) == own


@covers(EndpointRepository.list_in, EndpointRepository.get_in, EndpointRepository.get_in_any)
@covers(EndpointRepository.subscribed_in, EndpointRepository.owner_emails)
@covers(EndpointRepository.all_in)
async def webhook_endpoints(c: Ctx) -> None:
    repo, mine = EndpointRepository(c.session), {c.a.endpoint_id}
    assert ids((await repo.list_in(c.ws, PAGE)).items) == mine
    assert await repo.get_in(c.ws, c.b.endpoint_id) is None
    assert await repo.get_in_any([c.ws], c.b.endpoint_id) is None
    assert await repo.get_in_any([c.ws], c.a.endpoint_id) is not None
    past = datetime.now(UTC) - timedelta(days=1)
    assert ids(await repo.subscribed_in(c.ws, EVENT, disabled_after=past)) == mine
    assert await repo.owner_emails(c.ws) == [c.a.owner.email]
    assert ids(await repo.all_in(c.ws)) == mine


@covers(DeliveryRepository.list_for_endpoint, DeliveryRepository.get_with_endpoint)
@covers(AttemptRepository.attempts_for)
async def webhook_deliveries(c: Ctx) -> None:
    repo = DeliveryRepository(c.session)
    assert (await repo.list_for_endpoint(c.ws, c.b.endpoint_id, PAGE)).items == []
    assert ids((await repo.list_for_endpoint(c.ws, c.a.endpoint_id, PAGE)).items) == {
        c.a.delivery_id
    }
    for lock in (False, True):
        assert await repo.get_with_endpoint(c.ws, c.b.delivery_id, lock=lock) is None
        assert await repo.get_with_endpoint(c.ws, c.a.delivery_id, lock=lock) is not None
    attempts = AttemptRepository(c.session)
    both = [c.a.delivery_id, c.b.delivery_id]
    assert ids(await attempts.attempts_for(c.ws, both)) == {c.a.attempt_id}
    assert workspaces(await attempts.attempts_for(c.ws, both)) == {c.a.workspace_id}


@covers(UsageRepository.spent)
async def usage_spent(c: Ctx) -> None:
    assert await UsageRepository(c.session).spent(c.ws, c.a.usage_day) == c.a.tokens_spent


@covers(InvitationRepository.supersede)
async def invitations_superseded(c: Ctx) -> None:
    """Expiring "earlier invitations of this address" never reaches another workspace's."""
    now = datetime.now(UTC)
    await InvitationRepository(c.session).supersede(c.ws, c.b.invitation_email, now)
    await InvitationRepository(c.session).supersede(c.ws, c.a.invitation_email, now)
