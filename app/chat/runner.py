"""Running a prepared turn against the model, outside the request's transaction.

Per CONVENTIONS rule 18 the streamed part never touches the request session: tool calls and the
final write each open a short session of their own, re-bound to the same principal. Whatever
happens the assistant row ends in a final state: ``complete``, ``incomplete`` (the client went
away; partial text kept) or ``failed`` (the provider failed; partial text kept).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import openai
import structlog
from openai import AsyncOpenAI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.repository import PrincipalContextRepository
from app.chat.persistence import finalize_turn, load_result
from app.chat.provider import Completed, ProviderEvent, TextDelta, stream_completion
from app.chat.turn import PreparedTurn
from app.conversations.models import MessageStatus
from app.conversations.schemas import ToolCallRead, TurnResult
from app.core.config import Settings
from app.tools import executor
from app.tools.context import ToolContext
from app.tools.names import ToolName
from app.tools.registry import REGISTRY

log = structlog.get_logger()


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


async def run_turn(
    turn: PreparedTurn,
    *,
    client: AsyncOpenAI,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> AsyncIterator[TurnEvent]:
    offered = {name: REGISTRY[ToolName(name)] for name in turn.tool_names}
    schemas = [spec.openai_schema() for spec in offered.values()]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": turn.system_prompt},
        *turn.history,
    ]
    text: list[str] = []
    tokens = [0, 0]
    upstream: AsyncGenerator[ProviderEvent, None] | None = None
    try:
        for round_number in range(settings.chat_max_tool_rounds + 1):
            # The last round offers no tools, so a turn always ends in text.
            round_tools = schemas if round_number < settings.chat_max_tool_rounds else []
            round_text: list[str] = []
            completed: Completed | None = None
            upstream = current = stream_completion(
                client,
                model=turn.model,
                messages=messages,
                tools=round_tools,
                temperature=turn.temperature,
                max_tokens=turn.max_tokens,
            )
            async for event in current:
                if isinstance(event, TextDelta):
                    round_text.append(event.text)
                    text.append(event.text)
                    yield Delta(event.text)
                else:
                    completed = event
            upstream = None
            if completed is None or completed.finish_reason is None:
                # The stream ended without a finish reason (cut off upstream): not an answer.
                raise ValueError("model stream ended without a finish reason")
            tokens[0] += completed.prompt_tokens
            tokens[1] += completed.completion_tokens
            if not completed.tool_calls or not round_tools:
                break
            messages.append(
                {
                    "role": "assistant",
                    "content": "".join(round_text) or None,
                    "tool_calls": [
                        {
                            "id": c.call_id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for c in completed.tool_calls
                    ],
                }
            )
            for call in completed.tool_calls:
                # One short transaction per call, shielded from the client leaving: a call
                # that ran is always committed with its audit row, and reported only after.
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
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.call_id,
                        "content": outcome.content_for_model or "(no result)",
                    }
                )
                yield ToolEvent(record)
    except (asyncio.CancelledError, GeneratorExit):
        # The client went away: stop the model (closing its HTTP stream cancels the upstream
        # generation), keep what was said marked incomplete, then let go.
        with anyio.CancelScope(shield=True):
            if upstream is not None:
                await upstream.aclose()
            await _finalize(sessionmaker, turn, text, tokens, MessageStatus.INCOMPLETE)
        raise
    except (openai.APIError, ValueError) as exc:
        # Provider failures (HTTP errors, timeouts, broken streams, malformed chunks): the
        # client gets a generic code, never the upstream body or a trace.
        log.warning("model call failed", error=type(exc).__name__)
        await _finalize(sessionmaker, turn, text, tokens, MessageStatus.FAILED)
        yield Failed("model_unavailable")
        return
    await _finalize(sessionmaker, turn, text, tokens, MessageStatus.COMPLETE)
    # Read the stored turn, close the session, *then* yield: a consumer that stops after ``Done``
    # (JSON mode) must not leave a transaction open in a suspended generator.
    async with sessionmaker() as session, session.begin():
        await PrincipalContextRepository(session).bind_principal(turn.principal)
        result = await load_result(
            session, turn.principal, turn.user_message_id, turn.assistant_message_id
        )
    yield Done(result)


async def _finalize(
    sessionmaker: async_sessionmaker[AsyncSession],
    turn: PreparedTurn,
    text: list[str],
    tokens: list[int],
    status: MessageStatus,
) -> None:
    async with sessionmaker() as session, session.begin():
        await PrincipalContextRepository(session).bind_principal(turn.principal)
        await finalize_turn(
            session,
            turn,
            content="".join(text),
            status=status,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
        )
