"""Write paths of every tenant repository, with RLS off: aimed at B's rows, they change nothing.

The runner (tests/isolation/test_app_filters_alone.py) compares every foreign row before and
after each probe; a probe here also checks the write's own answer (0 rows, None, refused).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import CTE, func, literal, select

from app.conversations.models import Conversation
from app.conversations.repository import ConversationRepository
from app.core.repository import Carried
from app.files.repository import MessageFileRepository
from app.usage.repository import UsageRepository, UsageReservationRepository
from app.webhooks.fanout.repository import FanOutRepository
from app.webhooks.outbound.models import DeliveryStatus, WebhookDelivery
from app.webhooks.outbound.repository import AttemptRepository, DeliveryRepository
from app.workspaces.repository import MembershipRepository
from tests.isolation.app_filters import Ctx, covers
from tests.isolation.seed import EVENT


async def _run(c: Ctx, writes: Carried) -> None:
    """Data-modifying CTEs run the way their callers run them: carried by another statement."""
    await c.session.execute(select(literal(1)).add_cte(*writes.ctes), dict(writes.values))


@covers(ConversationRepository.touch_cte)
async def touch_conversations(c: Ctx) -> None:
    """B's conversations, A's owner's, and the caller's own old one in B (a workspace they left)
    stay as they were (the runner's snapshot); the caller's own in A is touched."""
    repo, now = ConversationRepository(c.session), datetime.now(UTC)
    foreign = (c.b.member.conversation_id, c.a.owner.conversation_id, c.left_behind[0])
    for conversation_id in foreign:
        await _run(c, repo.touch_cte(c.member, conversation_id, now))
    await _run(c, repo.touch_cte(c.member, c.a.member.conversation_id, now))
    mine = select(Conversation.last_message_at).where(Conversation.id == c.a.member.conversation_id)
    assert await c.session.scalar(mine) == now  # the control: the caller's own is touched


@covers(FanOutRepository.fan_out)
async def fan_out_deliveries(c: Ctx) -> None:
    """The turn's fan-out writes deliveries for the caller's workspace's endpoints only (B's
    endpoint gets nothing: the runner's snapshot); a gate with no row writes nothing."""
    repo, now, marker = FanOutRepository(c.session), _now(), f'{{"probe":"{uuid.uuid4()}"}}'

    def fan_out(gate: CTE | None) -> Carried:
        return repo.fan_out(
            c.ws, EVENT, payload=marker, payload_without_content=marker,
            disabled_after=now, due_at=now, gate=gate,
        )  # fmt: skip

    mine = select(func.count()).where(
        WebhookDelivery.endpoint_id == c.a.endpoint_id, WebhookDelivery.payload == marker
    )
    await _run(c, fan_out(select(literal(1)).where(literal(False)).cte("nothing")))
    assert await c.session.scalar(mine) == 0
    await _run(c, fan_out(None))
    assert await c.session.scalar(mine) == 1
    # Nor under A's id: B's endpoint (subscribed to the same event) gets no delivery at all.
    others = select(func.count()).where(
        WebhookDelivery.endpoint_id != c.a.endpoint_id, WebhookDelivery.payload == marker
    )
    assert await c.session.scalar(others) == 0


@covers(MembershipRepository.remove)
async def remove_members(c: Ctx) -> None:
    repo = MembershipRepository(c.session)
    await repo.remove(c.ws, c.b.member.user_id)
    await repo.remove(c.ws, c.b.owner.user_id)


@covers(UsageRepository.reserve, UsageReservationRepository.settle_turn)
async def usage_ledger(c: Ctx) -> None:
    repo, day, turn = UsageRepository(c.session), c.a.usage_day, uuid.uuid4()
    holds = UsageReservationRepository(c.session)
    assert await repo.reserve(c.ws, turn, day, tokens=5, budget=10**6, prompt_estimate=1)
    assert await holds.settle_turn(c.ws, turn, prompt=1, completion=1) is not None
    assert await repo.spent(c.ws, day) == c.a.tokens_spent + 2


@covers(UsageReservationRepository.settle_turn)
async def usage_reservations(c: Ctx) -> None:
    """B's hold is not A's to settle: nothing is taken, nothing charged on A's ledger."""
    holds = UsageReservationRepository(c.session)
    assert await holds.settle_turn(c.ws, c.b.reservation_message_id, prompt=1, completion=1) is None
    assert await UsageRepository(c.session).spent(c.ws, c.a.usage_day) == c.a.tokens_spent
    assert await holds.settle_turn(c.ws, c.a.reservation_message_id, prompt=0, completion=1)


@covers(MessageFileRepository.attach)
async def attach_files(c: Ctx) -> None:
    """Attachments are written into the caller's workspace only (the file and message ids come
    from the service's checked reads: readable_in, the message it just wrote)."""
    await MessageFileRepository(c.session).attach(
        c.ws, c.a.member.reply_id, [c.a.member.file_id, c.a.owner.file_id]
    )


@covers(DeliveryRepository.enqueue)
async def enqueue_deliveries(c: Ctx) -> None:
    repo = DeliveryRepository(c.session)

    def delivery(workspace_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookDelivery:
        return WebhookDelivery(
            id=uuid.uuid4(), workspace_id=workspace_id, endpoint_id=endpoint_id,
            event_type=EVENT, payload="{}", status=DeliveryStatus.PENDING, attempts=0,
        )  # fmt: skip

    with pytest.raises(ValueError, match="outside the workspace"):
        await repo.enqueue(c.ws, [delivery(c.b.workspace_id, c.b.endpoint_id)], due_at=_now())
    await repo.enqueue(c.ws, [delivery(c.a.workspace_id, c.a.endpoint_id)], due_at=_now())


@covers(DeliveryRepository.hold_pending, DeliveryRepository.requeue)
async def hold_and_requeue(c: Ctx) -> None:
    repo, every = DeliveryRepository(c.session), list(DeliveryStatus)
    assert await repo.hold_pending(c.ws, c.b.endpoint_id, _now()) == 0
    assert await repo.requeue(c.ws, c.b.endpoint_id, statuses=every, due_at=_now()) == 0
    aimed = c.b.delivery_id  # B's delivery through A's own endpoint
    assert (
        await repo.requeue(c.ws, c.a.endpoint_id, statuses=every, due_at=_now(), delivery_id=aimed)
        == 0
    )
    assert await repo.requeue(c.ws, c.a.endpoint_id, statuses=every, due_at=_now()) == 1


@covers(AttemptRepository.add_attempt)
async def add_attempts(c: Ctx) -> None:
    await AttemptRepository(c.session).add_attempt(c.ws, c.a.delivery_id, outcome="ok")


def _now() -> datetime:
    return datetime.now(UTC)
