"""``python -m tests.webhooks.crashing_worker worker ...``: the real worker with one fault injected.

Every delivery attempt raises, and the exception message carries the endpoint's signing secrets
(the worst case for a log line). Used by tests/faults/test_webhooks.py to show that an unexpected
exception is recorded as an attempt, backs off, ends, and never prints a secret. Fault injection
at the process boundary, the way a chaos tool would: nothing else of the worker is replaced.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from app.cli import main
from app.webhooks import jobs
from app.webhooks.outbound.delivery import AttemptResult


async def _crash(*_args: object, secrets: Sequence[str] = (), **_kwargs: object) -> AttemptResult:
    raise RuntimeError("injected fault; secrets in scope: " + " ".join(secrets))


setattr(jobs, "attempt", _crash)  # noqa: B010 - replaces the name the worker calls

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
