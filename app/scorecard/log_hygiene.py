"""Logging hygiene (C9), with ``--log-file``: nothing secret or personal in the server's log.

From outside, a log cannot be read, so without ``--log-file`` the row says NOT CHECKED. With it,
the log of the run is scanned for: any credential ``app.core.secret_scan.find_secret_types``
recognises, the accounts' passwords, the run's session cookie values, and the canaries the run
itself sent (a file name, file content, a chat message: user content that a log must not keep).
Evidence names the line and the kind, never the value.
"""

from __future__ import annotations

from app.core.secret_scan import find_secret_types
from app.scorecard import scratch
from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.registry import Verdict, check

MAX_BYTES = 32 * 1024 * 1024  # the tail of a larger log is scanned
FIX = "docs/observability.md (app/core/redaction.py, app/core/logging.py)"


def _secrets_of_run(ctx: Context) -> list[tuple[str, str]]:
    """(kind, value) for every secret this run holds; values never leave this module."""
    accounts = list(ctx.options.accounts)
    if ctx.options.staff_account is not None:
        accounts.append(ctx.options.staff_account)
    found = [("an account password", a.password) for a in accounts if a.password]
    for value in ctx.state.values():
        cookie = getattr(value, "cookie_value", None)
        if isinstance(cookie, str) and len(cookie) >= 8:
            found.append(("a session cookie value", cookie))
        key = getattr(value, "secret", None)  # API keys the run created (session.ApiKey)
        if isinstance(key, str) and len(key) >= 16:
            found.append(("an API key the run created", key))
    found.extend(("a canary the run sent", c) for c in ctx.state.get(scratch.CANARIES, []))
    return found


def _read_tail(ctx: Context) -> tuple[str, int] | None:
    path = ctx.options.log_file
    if path is None or not path.is_file():
        return None
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - MAX_BYTES))
        data = handle.read()
    return data.decode("utf-8", errors="replace"), size


@check(
    "logging",
    "logging.no_secrets",
    "the server log holds no secret, cookie or user content",
    fix=FIX,
)
def no_secrets(ctx: Context) -> Verdict:
    if ctx.options.log_file is None:
        return Verdict.not_checked(
            "log hygiene needs --log-file (the server's log covering this run)"
        )
    read = _read_tail(ctx)
    if read is None:
        return Verdict.not_checked(f"cannot read the log file {ctx.options.log_file}")
    text, size = read
    lines = text.splitlines()
    own = _secrets_of_run(ctx)
    lines_by_kind: dict[str, list[int]] = {}
    for number, line in enumerate(lines, start=1):
        kinds = {kind for kind, value in own if value in line}
        kinds.update(find_secret_types(line) if _maybe_secret(line) else [])
        for kind in kinds:
            lines_by_kind.setdefault(kind, []).append(number)
    # One line of evidence per kind (where first, how often), so no kind hides behind another.
    name = ctx.options.log_file.name
    findings = [
        Evidence(f"{name}:{numbers[0]}", None, f"{kind} (on {len(numbers)} line(s))")
        for kind, numbers in sorted(lines_by_kind.items())
    ]
    scanned = Evidence(
        f"{ctx.options.log_file.name} ({len(lines)} lines, {size} bytes)",
        None,
        f"searched for {len(own)} values of this run and the secret scanner's patterns",
    )
    if findings:
        return Verdict.failed(scanned, *findings)
    if not lines:
        return Verdict.not_checked("the log file is empty", scanned)
    return Verdict.passed(scanned)


def _maybe_secret(line: str) -> bool:
    """A cheap pre-filter: detect-secrets' plugins per line are slow on long logs, and every
    pattern it and ``secret_scan`` know needs a run of 16+ token characters."""
    run = 0
    for char in line:
        run = run + 1 if char.isalnum() or char in "_-+/=.~" else 0
        if run >= 16:
            return True
    return False
