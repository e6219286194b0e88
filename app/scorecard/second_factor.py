"""TOTP codes for the operator's accounts that have an authenticator app enrolled.

``--account EMAIL:ENVVAR:TOTPVAR`` gives the account's base32 secret. A code is accepted once
(the server stores the last step used and refuses any step up to it) and for one step either
side of the server's clock, so the checker never reuses a step and never takes the step an
authenticator app shows right now (a code the operator may just have typed): each code is that
of the step after the last one it used and after the current one, waiting when that step is not
yet within the server's tolerance. Neither the secret nor a code is ever put into evidence.
"""

from __future__ import annotations

import time

import pyotp

from app.scorecard.context import Context

TOTP_STEP_SECONDS = 30
# Past the start of a step before its successor is sent: a server clock a little behind ours
# would otherwise still be one step back and find the code two steps ahead.
CLOCK_MARGIN_SECONDS = 2.0
# The last step used per account, for the whole process (runs in one process, as in tests,
# must not reuse each other's steps either).
_last_step: dict[str, int] = {}


def next_code(ctx: Context, email: str, secret: str) -> str | None:
    """A code for a step this run has not used for ``email`` yet, after waiting if need be;
    None when the wait would outlast the run's time budget."""
    now = time.time()
    step = max(int(now // TOTP_STEP_SECONDS) + 1, _last_step.get(email, -1) + 1)
    # The server accepts ``step`` once its clock is in ``step - 1`` (a margin for its clock).
    wait = (step - 1) * TOTP_STEP_SECONDS + CLOCK_MARGIN_SECONDS - now
    if wait > 0:
        if wait > ctx.probe.budget.remaining_seconds():
            return None
        time.sleep(wait)
    _last_step[email] = step
    return pyotp.TOTP(secret).at(step * TOTP_STEP_SECONDS)
