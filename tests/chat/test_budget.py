"""The daily token budget holds under concurrent sends, disconnects and failures.

A dedicated server with a small ``CHAT_DAILY_TOKEN_BUDGET`` against the session database and the
model stub, driven over real HTTP from threads. The stub's ``[[fail:slow:MS]]`` switch keeps every
answer running for a few seconds, so all concurrent sends are admitted (or refused) while none
has finished: exactly the window in which a read-then-check budget lets every one through.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.db import async_url
from app.identity.repository import PrincipalContextRepository
from app.usage import service as usage_service
from app.usage.service import estimate_prompt_tokens, reservation_tokens
from app.workspaces.access import AccessibleWorkspaceID
from tests.chat.helpers import messages_url, tokens_spent_today, wait_for
from tests.factories.bots import create_bot
from tests.factories.conversations import JSON, start_conversation
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.servers import ServerFactory
from tests.support import Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C6",
    red="check the daily token budget read-then-write instead of reserving atomically "
    "(app/chat/accounting.py), or stop charging a turn that disconnected or failed",
)

BUDGET = 200
SENDERS = 20
SYSTEM_PROMPT = "Be brief."
MAX_OUTPUT = 16  # the smallest cap a bot may have: a small, known reservation
SLOW = "[[fail:slow:300]]"  # 300 ms between streamed words


@pytest.fixture(scope="module")
def budget_server(server_factory: ServerFactory) -> Iterator[Server]:
    with server_factory(name="budget", CHAT_DAILY_TOKEN_BUDGET=str(BUDGET)) as srv:
        yield srv


@pytest.fixture(scope="module")
def owner(budget_server: Server, db: Database) -> Actor:
    return create_actor(budget_server, db, "budget-owner")


@pytest.fixture
def workspace(owner: Actor) -> tuple[str, str]:
    """A fresh workspace (its own ledger) and its bot without tools."""
    workspace_id = create_workspace(owner, name="Budget studio")
    bot = create_bot(owner, workspace_id, system_prompt=SYSTEM_PROMPT, max_output_tokens=MAX_OUTPUT)
    return workspace_id, str(bot["id"])


def _ledger(db: Database, workspace_id: str) -> tuple[int, int]:
    """(settled tokens, reserved tokens) of the workspace today."""
    row = db.rows(
        "SELECT prompt_tokens + completion_tokens, reserved_tokens FROM workspace_usage "
        "WHERE workspace_id = %s AND day = %s",
        workspace_id,
        datetime.now(UTC).date(),
    )
    return (int(row[0][0]), int(row[0][1])) if row else (0, 0)


def _assert_released(db: Database, workspace_id: str, reserved: int) -> None:
    """Every turn ended and settled: nothing is still held of the day's budget."""
    assert reserved == 0
    open_rows = db.scalar(
        "SELECT count(*) FROM usage_reservation WHERE workspace_id = %s", workspace_id
    )
    assert open_rows == 0


def _assistant_status(db: Database, conversation_id: str) -> str | None:
    rows = db.rows(
        "SELECT status::text FROM message WHERE conversation_id = %s AND role = 'assistant'",
        conversation_id,
    )
    return str(rows[0][0]) if rows else None


def test_concurrent_sends_overshoot_by_at_most_one_reservation(
    owner: Actor, workspace: tuple[str, str], db: Database
) -> None:
    workspace_id, bot_id = workspace
    conversations = [str(start_conversation(owner, bot_id)["id"]) for _ in range(SENDERS)]
    content = f"Tell me six words now {SLOW}"
    reservation = reservation_tokens(
        estimate_prompt_tokens([{"content": SYSTEM_PROMPT}, {"content": content}]),
        max_tokens=MAX_OUTPUT,
        tool_rounds=0,
    )
    gate = threading.Barrier(SENDERS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def send(conversation_id: str) -> None:
        gate.wait(timeout=30)
        response = owner.post(
            messages_url(conversation_id), json={"content": content}, headers=JSON
        )
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send, args=(c,)) for c in conversations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    statuses = sorted(r.status_code for r in answers)
    assert len(answers) == SENDERS
    spent, reserved = _ledger(db, workspace_id)
    assert spent <= BUDGET + reservation, (spent, BUDGET, reservation, statuses)
    assert set(statuses) <= {200, 429}, statuses
    admitted = statuses.count(200)
    refused = [r for r in answers if r.status_code == 429]
    assert admitted >= 1, statuses
    assert refused, statuses
    for response in refused:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "token_budget_exhausted"
        assert int(response.headers["retry-after"]) >= 1
    # The first wave is refused while every admitted answer is still running (nothing settled
    # yet): that is a short wait, not "until midnight".
    assert min(int(r.headers["retry-after"]) for r in refused) <= 60
    _assert_released(db, workspace_id, reserved)
    # Every admitted turn was charged: the ledger equals the answers' own usage.
    charged = sum(
        r.json()["message"]["prompt_tokens"] + r.json()["message"]["completion_tokens"]
        for r in answers
        if r.status_code == 200
    )
    assert spent == charged > 0


def test_a_client_that_disconnects_mid_stream_is_charged(
    owner: Actor, workspace: tuple[str, str], db: Database
) -> None:
    workspace_id, bot_id = workspace
    conversation_id = str(start_conversation(owner, bot_id)["id"])
    content = f"Read the first words then leave {SLOW}"
    deltas = 0
    with httpx.stream(
        "POST",
        owner.server.url + messages_url(conversation_id),
        json={"content": content},
        headers=owner.headers(),
        timeout=30,
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event: delta"):
                deltas += 1
                if deltas == 2:
                    break  # closing the stream closes the socket before the final chunk
    assert deltas == 2
    wait_for(lambda: _assistant_status(db, conversation_id) not in (None, "streaming"), 20)

    assert _assistant_status(db, conversation_id) == "incomplete"
    streamed = db.scalar(
        "SELECT content FROM message WHERE conversation_id = %s AND role = 'assistant'",
        conversation_id,
    )
    assert streamed  # the words the client read before leaving are kept
    spent, reserved = _ledger(db, workspace_id)
    # Never free: the prompt the provider read and the words it streamed.
    assert spent > estimate_prompt_tokens([{"content": SYSTEM_PROMPT}, {"content": content}])
    _assert_released(db, workspace_id, reserved)


def test_a_failed_turn_is_charged_its_prompt(
    owner: Actor, workspace: tuple[str, str], db: Database
) -> None:
    workspace_id, bot_id = workspace
    conversation_id = str(start_conversation(owner, bot_id)["id"])
    content = "This one fails upstream [[fail:500]]"

    response = owner.post(messages_url(conversation_id), json={"content": content}, headers=JSON)

    assert response.status_code == 502, response.text
    assert _assistant_status(db, conversation_id) == "failed"
    spent, reserved = _ledger(db, workspace_id)
    assert spent >= estimate_prompt_tokens([{"content": SYSTEM_PROMPT}, {"content": content}]) > 0
    assert tokens_spent_today(db, workspace_id) == spent
    _assert_released(db, workspace_id, reserved)


def test_an_exhausted_day_waits_until_midnight(
    owner: Actor, workspace: tuple[str, str], db: Database
) -> None:
    workspace_id, bot_id = workspace
    conversation_id = str(start_conversation(owner, bot_id)["id"])
    first = owner.post(
        messages_url(conversation_id), json={"content": "x " * 600}, headers=JSON
    )  # admitted with budget left, then settles above it (one reservation over at most)
    assert first.status_code == 200, first.text
    assert _ledger(db, workspace_id)[0] >= BUDGET

    refused = owner.post(messages_url(conversation_id), json={"content": "Hi"}, headers=JSON)

    assert refused.status_code == 429
    assert refused.json()["code"] == "token_budget_exhausted"
    assert int(refused.headers["retry-after"]) > 60 or datetime.now(UTC).hour == 23


def test_a_turn_is_settled_once_whoever_ends_it(workspace: tuple[str, str], db: Database) -> None:
    """The runner and a late sweeper both end the same turn: one release, one charge.

    Run as the worker runs (app role, forced RLS, one workspace bound), two transactions.
    """
    workspace_id = uuid.UUID(workspace[0])
    ws = AccessibleWorkspaceID(workspace_id)
    message_id = uuid.uuid4()
    settings = Settings(secret_key=SecretStr(secrets.token_hex(32)), chat_daily_token_budget=BUDGET)

    async def scenario() -> None:
        engine = create_async_engine(async_url(db.app), poolclass=NullPool)

        async def in_workspace(step: Callable[[AsyncSession], Awaitable[object]]) -> None:
            async with AsyncSession(engine) as session, session.begin():
                await PrincipalContextRepository(session).bind_worker_scope(workspace_id)
                await step(session)

        try:
            await in_workspace(
                lambda session: usage_service.reserve_turn(
                    session,
                    settings,
                    ws,
                    message_id,
                    messages=[{"content": "hello"}],
                    tool_names=(),
                    max_tokens=MAX_OUTPUT,
                )
            )
            assert _ledger(db, workspace[0])[1] > 0
            for _ in range(2):
                await in_workspace(
                    lambda session: usage_service.settle(
                        session, ws, message_id, prompt=7, completion=3
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(scenario())

    assert _ledger(db, workspace[0]) == (10, 0)
    _assert_released(db, workspace[0], 0)
