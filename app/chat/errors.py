"""How a failed turn answers: a stable code, and in JSON mode an RFC 9457 problem (502/503).

Model-caused endings are 502 (the upstream answered badly or not at all); endings on our side
(the database went away, the process streaming the turn died, an unexpected error) are 503 with
``Retry-After``. Never a 500, never upstream text. A retry with the same ``Idempotency-Key``
answers the recorded code again: send a new key to try again.
"""

from __future__ import annotations

import asyncio
from typing import Final

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.chat.limits import ANSWER_TOO_LONG, INVALID_OUTPUT, TOO_MANY_TOOL_CALLS
from app.core.errors import AppError

MODEL_UNAVAILABLE: Final = "model_unavailable"
DATABASE_UNAVAILABLE: Final = "database_unavailable"
TURN_INTERRUPTED: Final = "turn_interrupted"  # the process streaming it died (the sweeper ends it)
TURN_FAILED: Final = "turn_failed"  # an unexpected error inside the turn
CLIENT_DISCONNECTED: Final = "client_disconnected"  # on ``incomplete`` turns

FAILURE_STATUS: Final[dict[str, int]] = {
    MODEL_UNAVAILABLE: 502,
    INVALID_OUTPUT: 502,
    TOO_MANY_TOOL_CALLS: 502,
    ANSWER_TOO_LONG: 502,
    DATABASE_UNAVAILABLE: 503,
    TURN_INTERRUPTED: 503,
    TURN_FAILED: 503,
}
RETRY_AFTER_SECONDS = 5


class TurnFailed(AppError):
    status_code = 502
    code = MODEL_UNAVAILABLE
    title = "The answer could not be completed"

    def __init__(self, code: str, *, replayed: bool = False) -> None:
        status = FAILURE_STATUS.get(code, 503)
        if replayed:
            detail = "This Idempotency-Key belongs to a turn that failed. Send with a new key."
        elif status == 502:
            detail = "The model provider did not answer usably. Try again."
        else:
            detail = "The answer could not be completed. Try again."
        super().__init__(detail, code=code if code in FAILURE_STATUS else TURN_FAILED)
        self.status_code = status
        if status == 503 and not replayed:
            self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def failure_code(exc: BaseException) -> str:
    """The code an unexpected exception inside a turn ends it with (never its message)."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, ConnectionError)):
        return DATABASE_UNAVAILABLE
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return DATABASE_UNAVAILABLE
    if isinstance(exc, (OSError, asyncio.TimeoutError)):
        return DATABASE_UNAVAILABLE  # asyncpg raises these bare when the server vanishes
    return TURN_FAILED
