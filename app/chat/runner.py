"""Running a prepared turn against the model, outside the request's transaction.

Per CONVENTIONS rule 18 the streamed part never touches the request session: tool calls and the
final write each open a short session of their own, re-bound to the same principal. Every way out
of ``run_turn`` ends the assistant row once, in a final state with a code
(docs/decisions/0005-streaming-persistence.md): ``complete``; ``incomplete`` (the client went
away; partial text kept); ``failed`` (the provider failed, the model's output was refused, the
database went away, anything unexpected; partial text kept). While it runs, a heartbeat renews
the turn's lease; if the process dies, the worker ends the turn when the lease passes
(``app/chat/jobs.py``). If the database is gone at the end, the row cannot be written here
either: the lease is still there, and the worker ends the turn once the database is back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import openai
import structlog
from openai import AsyncOpenAI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bots.tool_names import ToolName
from app.chat.accounting import Tally, estimate_prompt_tokens
from app.chat.chunk_decoder import StreamMeter
from app.chat.errors import (
    CLIENT_DISCONNECTED,
    DATABASE_UNAVAILABLE,
    MODEL_UNAVAILABLE,
    TURN_FAILED,
    failure_code,
)
from app.chat.limits import ANSWER_TOO_LONG, ModelOutputRefused
from app.chat.persistence import finalize_turn
from app.chat.provider import (
    Completed,
    ProviderEvent,
    TextDelta,
    ToolCallRequest,
    stream_completion,
)
from app.chat.turn import PreparedTurn
from app.conversations.models import MessageStatus
from app.conversations.repository import TurnLeaseRepository
from app.conversations.schemas import ToolCallRead, TurnResult
from app.core.config import Settings
from app.core.error_reporting import report_exception
from app.identity.repository import PrincipalContextRepository
from app.tools import executor
from app.tools.context import ToolContext
from app.tools.registry import REGISTRY

log = structlog.get_logger()
Sessionmaker = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class ToolEvent:
    call: ToolCallRead


@dataclass(frozen=True)
class Done:
    result: TurnResult


@dataclass(frozen=True)
class Failed:
    code: str


TurnEvent = Delta | ToolEvent | Done | Failed


class _StreamCut(Exception):
    """The model's stream ended without a finish reason (cut off upstream): not an answer."""


class _AnswerTooLong(Exception):
    pass


@dataclass
class _State:
    """What the turn has produced so far: read by every ending."""

    text: list[str] = field(default_factory=list)
    chars: int = 0
    tally: Tally = field(default_factory=Tally)
    tool_calls: int = 0
    upstream: AsyncGenerator[ProviderEvent, None] | None = None


async def run_turn(
    turn: PreparedTurn,
    *,
    client: AsyncOpenAI,
    sessionmaker: Sessionmaker,
    settings: Settings,
) -> AsyncIterator[TurnEvent]:
    state = _State()
    heartbeat = asyncio.create_task(_heartbeat(sessionmaker, turn, settings, state))
    rounds = _rounds(turn, client, sessionmaker, settings, state)
    code: str
    try:
        async for event in rounds:
            yield event
    except (asyncio.CancelledError, GeneratorExit):
        # The client went away: stop the model (closing its HTTP stream cancels the upstream
        # generation), keep what was said marked incomplete, then let go.
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(Exception):
                await rounds.aclose()  # settles the open round's tokens
            await _close_upstream(state)
            heartbeat.cancel()
            await _finalize(
                sessionmaker, turn, state, MessageStatus.INCOMPLETE, CLIENT_DISCONNECTED
            )
        raise
    except Exception as exc:  # every failure still ends the turn, never leaves it streaming
        code = _failure(exc, state)
    else:
        heartbeat.cancel()
        # The ending and the stored turn in one transaction, closed *before* the yield: a
        # consumer that stops after ``Done`` (JSON mode) must not leave a transaction open in a
        # suspended generator.
        result = await _finalize(sessionmaker, turn, state, MessageStatus.COMPLETE, None)
        yield Done(result) if result is not None else Failed(DATABASE_UNAVAILABLE)
        return
    finally:
        heartbeat.cancel()
    with anyio.CancelScope(shield=True):
        await _close_upstream(state)
        await _finalize(sessionmaker, turn, state, MessageStatus.FAILED, code)
    yield Failed(code)


def _failure(exc: Exception, state: _State) -> str:
    """The code a failed turn ends with, logged; the client never sees the upstream body or a
    trace."""
    if isinstance(exc, ModelOutputRefused):
        log.warning("model output refused", code=exc.code, reason=exc.reason)
        return exc.code
    if isinstance(exc, _AnswerTooLong):
        log.warning("model answer too long", code=ANSWER_TOO_LONG, chars=state.chars)
        return ANSWER_TOO_LONG
    if isinstance(exc, openai.APIError | httpx.HTTPError | _StreamCut):
        # Provider failures: HTTP errors, timeouts, broken streams.
        log.warning("model call failed", error=type(exc).__name__)
        return MODEL_UNAVAILABLE
    code = failure_code(exc)
    log.error("turn failed", error=type(exc).__name__, code=code)
    if code == TURN_FAILED:
        report_exception(exc)
    return code


async def _rounds(
    turn: PreparedTurn,
    client: AsyncOpenAI,
    sessionmaker: Sessionmaker,
    settings: Settings,
    state: _State,
) -> AsyncGenerator[TurnEvent, None]:
    """The model/tool loop. Raises on any failure; ``run_turn`` decides the ending."""
    offered = {name: REGISTRY[ToolName(name)] for name in turn.tool_names}
    schemas = [spec.openai_schema() for spec in offered.values()]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": turn.system_prompt},
        *turn.history,
    ]
    for round_number in range(settings.chat_max_tool_rounds + 1):
        # The last round offers no tools, so a turn always ends in text.
        round_tools = schemas if round_number < settings.chat_max_tool_rounds else []
        round_text: list[str] = []
        completed: Completed | None = None
        meter = StreamMeter()
        prompt_estimate = estimate_prompt_tokens(messages)
        state.upstream = current = stream_completion(
            client,
            model=turn.model,
            messages=messages,
            tools=round_tools,
            temperature=turn.temperature,
            max_tokens=turn.max_tokens,
            max_tool_calls=settings.chat_max_tool_calls_per_round,
            meter=meter,
        )
        try:
            async for event in current:
                if isinstance(event, TextDelta):
                    text = _within_limit(state, event.text, settings.chat_max_answer_chars)
                    if text:
                        round_text.append(text)
                        yield Delta(text)
                    if len(text) < len(event.text):
                        raise _AnswerTooLong
                else:
                    completed = event
        finally:
            # Charged however the round ends: reported usage, else estimates.
            state.tally.settle(meter, prompt_estimate)
        state.upstream = None
        if completed is None or completed.finish_reason is None:
            raise _StreamCut
        if not completed.tool_calls or not round_tools:
            return
        messages.append(_assistant_message(round_text, completed.tool_calls))
        for call in completed.tool_calls:
            record, content = await _execute(sessionmaker, settings, turn, offered, call)
            state.tool_calls += 1
            messages.append({"role": "tool", "tool_call_id": call.call_id, "content": content})
            yield ToolEvent(record)


def _within_limit(state: _State, text: str, limit: int) -> str:
    """The part of ``text`` that fits in the stored answer (all of it, usually)."""
    kept = text[: max(limit - state.chars, 0)]
    state.chars += len(kept)
    if kept:
        state.text.append(kept)
    return kept


def _assistant_message(round_text: list[str], calls: tuple[ToolCallRequest, ...]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": "".join(round_text) or None,
        "tool_calls": [
            {
                "id": c.call_id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for c in calls
        ],
    }


async def _execute(
    sessionmaker: Sessionmaker,
    settings: Settings,
    turn: PreparedTurn,
    offered: dict[str, Any],
    call: ToolCallRequest,
) -> tuple[ToolCallRead, str]:
    # One short transaction per call, shielded from the client leaving: a call that ran is
    # always committed with its audit row, and reported only after.
    with anyio.CancelScope(shield=True):
        async with sessionmaker() as session, session.begin():
            await PrincipalContextRepository(session).bind_principal(turn.principal)
            ctx = ToolContext(
                session=session,
                principal=turn.principal,
                settings=settings,
                workspace_id=turn.workspace_id,
                conversation_id=turn.conversation_id,
                allowed_domains=turn.allowed_domains,
            )
            outcome = await executor.execute(
                ctx,
                offered,
                message_id=turn.assistant_message_id,
                name=call.name,
                raw_arguments=call.arguments,
            )
            record = ToolCallRead.model_validate(outcome.record)
    return record, outcome.content_for_model or "(no result)"


async def _close_upstream(state: _State) -> None:
    if state.upstream is not None:
        upstream, state.upstream = state.upstream, None
        with contextlib.suppress(Exception):
            await upstream.aclose()


async def _heartbeat(
    sessionmaker: Sessionmaker, turn: PreparedTurn, settings: Settings, state: _State
) -> None:
    """Renew the turn's lease every third of its length (one small UPDATE of a platform row),
    recording how much was streamed so an orphaned turn is still charged for it."""
    lease = timedelta(seconds=settings.chat_turn_lease_seconds)
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        try:
            async with sessionmaker() as session, session.begin():
                await TurnLeaseRepository(session).renew(
                    turn.assistant_message_id, datetime.now(UTC) + lease, state.chars
                )
        except Exception as exc:  # the database may be away for a moment: try again next time
            log.warning("turn lease renewal failed", error=type(exc).__name__)


async def _finalize(
    sessionmaker: Sessionmaker,
    turn: PreparedTurn,
    state: _State,
    status: MessageStatus,
    error_code: str | None,
) -> TurnResult | None:
    """Write the ending (end the row, emit the event, settle the tokens last) and, for a
    complete turn, read the stored result in the same transaction. None when the database could not
    take it (the worker ends the turn from its lease once the database is back) or the result
    could not be read."""
    try:
        async with sessionmaker() as session, session.begin():
            await PrincipalContextRepository(session).bind_principal(turn.principal)
            return await finalize_turn(
                session,
                turn,
                content="".join(state.text),
                status=status,
                prompt_tokens=state.tally.prompt_tokens,
                completion_tokens=state.tally.completion_tokens,
                error_code=error_code,
                any_tool_calls=state.tool_calls > 0,
            )
    except Exception as exc:
        log.warning("turn ending not written", error=type(exc).__name__, status=status.value)
        return None
