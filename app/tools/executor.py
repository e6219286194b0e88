"""Run one model-requested tool call, or refuse it, and record it either way.

The model is untrusted input: a call runs only if the tool was offered for this turn, the
calling user still has the tool's permission in the bot's workspace, and the arguments parse as
JSON and validate against the tool's model (unknown fields such as ``workspace_id`` refused).
A refused call is recorded and reported to the model as refused; it is never executed.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from pydantic import ValidationError

from app.core.secret_scan import find_secret_types
from app.tools.context import ToolContext
from app.tools.models import ToolCall
from app.tools.registry import ToolSpec
from app.tools.repository import ToolCallRepository

log = structlog.get_logger()
TOOL_TIMEOUT_SECONDS = 20.0
MAX_RESULT_CHARS = 8000
_SENSITIVE_KEYS = ("password", "secret", "token", "key", "authorization", "cookie")


@dataclass(frozen=True)
class ToolOutcome:
    record: ToolCall
    content_for_model: str


def redact(value: Any, key: str = "") -> Any:
    """Arguments as stored: secret-looking keys and values replaced, structure kept."""
    if any(marker in key.lower() for marker in _SENSITIVE_KEYS):
        return "[redacted]"
    if isinstance(value, dict):
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, key) for item in value]
    if isinstance(value, str) and find_secret_types(value):
        return "[redacted]"
    return value


async def execute(
    ctx: ToolContext,
    offered: dict[str, ToolSpec],
    *,
    message_id: uuid.UUID,
    name: str,
    raw_arguments: str,
) -> ToolOutcome:
    started = time.monotonic()
    spec = offered.get(name)
    stored_name = name[:100] if name else "(empty)"
    if spec is None:
        return await _record(
            ctx, message_id, stored_name, {}, "refused", "tool_not_allowed", started
        )
    if not ctx.principal.can(ctx.workspace_id, spec.permission):
        return await _record(
            ctx, message_id, stored_name, {}, "refused", "permission_denied", started
        )
    try:
        parsed = json.loads(raw_arguments or "{}")
        arguments = spec.arguments.model_validate(parsed)
    except (ValueError, ValidationError):
        return await _record(
            ctx, message_id, stored_name, {}, "refused", "invalid_arguments", started
        )
    stored_args = redact(arguments.model_dump(mode="json"))
    try:
        with anyio.fail_after(TOOL_TIMEOUT_SECONDS):
            async with ctx.session.begin_nested():
                result = await spec.run(ctx, arguments)
    except TimeoutError:
        return await _record(ctx, message_id, stored_name, stored_args, "error", "timeout", started)
    except Exception as exc:
        detail = getattr(exc, "reason_code", None) or type(exc).__name__
        log.info("tool call failed", tool=stored_name, error=str(detail)[:60])
        return await _record(
            ctx, message_id, stored_name, stored_args, "error", str(detail)[:200], started
        )
    outcome = await _record(ctx, message_id, stored_name, stored_args, "ok", None, started)
    return ToolOutcome(record=outcome.record, content_for_model=result[:MAX_RESULT_CHARS])


async def _record(
    ctx: ToolContext,
    message_id: uuid.UUID,
    name: str,
    arguments: dict[str, Any],
    outcome: str,
    detail: str | None,
    started: float,
) -> ToolOutcome:
    record = await ToolCallRepository(ctx.session).create(
        ToolCall(
            id=uuid.uuid4(),
            workspace_id=ctx.workspace_id,
            conversation_id=ctx.conversation_id,
            message_id=message_id,
            user_id=ctx.principal.user_id,
            tool=name,
            arguments=arguments,
            outcome=outcome,
            detail=detail,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    )
    if outcome == "refused":
        content = json.dumps({"error": "refused", "reason": detail})
    elif outcome == "error":
        content = json.dumps({"error": "failed", "reason": detail})
    else:
        content = ""
    return ToolOutcome(record=record, content_for_model=content)
