"""Error reporting to Sentry, scrubbed before anything leaves the process.

Off unless ``SENTRY_DSN`` is set. Every process initialises it the same way (the CLI entry point,
``create_app`` and the worker call ``init_error_reporting``; a second call is a no-op). Only
unexpected exceptions are events: the SDK's default and auto-enabling integrations are off and
the few it keeps are listed explicitly, so no library integration (the OpenAI one reports
provider errors the app handles, with the provider's text; logging, SQLAlchemy, Redis, httpx
add breadcrumbs quoting queries, commands and URLs) can report a handled error or capture text.
The SDK is told to collect as little as it can (no default PII,
no local variables, no request bodies, traces off unless a sample rate is configured), and every
event and breadcrumb then goes through the same redaction as the logs (app/core/redaction.py)
plus rules for Sentry's own fields: request headers are cut to an allowlist, cookies, query
strings, bodies and the environment go, the user keeps an id at most, exception values get the
deep credential scan and lose SQLAlchemy's bound ``[parameters: ...]``.

The edge layer (app/core/middleware.py) swallows unexpected exceptions (it renders the bare 500
itself), so the SDK's ASGI integration never sees them: the layer calls ``report_exception``, which
tags the event with the request id a user quotes from the problem response. The worker reports a
failed job the same way, and app/core/logging.py's hooks report uncaught exceptions.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, cast

import sentry_sdk
from sentry_sdk.integrations.atexit import AtexitIntegration
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.modules import ModulesIntegration
from sentry_sdk.integrations.openai import OpenAIIntegration
from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.integrations.stdlib import StdlibIntegration
from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint
from sentry_sdk.utils import event_from_exception

from app.core.config import Settings
from app.core.redaction import REDACTED, redact_value, scrub_exception_text, scrub_text
from app.core.request_context import current_request_id

# Request headers an event may keep (everything else, Authorization and Cookie included, goes).
_KEPT_HEADERS = frozenset({"accept", "content-length", "content-type"})
_KEPT_REQUEST_FIELDS = ("method", "url")
_QUERY = re.compile(r"(https?://[^\s?#\"'<>]*)\?[^\s#\"'<>]*")
# Frame fields that are the application's source and paths, not request data.
_FRAME_CODE_FIELDS = frozenset(
    {"filename", "abs_path", "module", "function", "context_line", "pre_context", "post_context"}
)


def init_error_reporting(settings: Settings) -> bool:
    """Start the SDK when a DSN is configured; ``True`` when it did."""
    if settings.sentry_dsn is None:
        return False
    if sentry_sdk.get_client().is_active():
        return True  # the CLI entry point initialised it; create_app or the worker call again
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment.value,
        release=settings.release,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=settings.sentry_traces_sample_rate or None,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        # Nothing the SDK would enable on its own: each integration below is chosen.
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[
            # Handled problem responses (AppError 503s included) are designed answers that
            # metrics count; only unexpected exceptions are events (report_exception).
            StarletteIntegration(failed_request_status_codes=set()),
            FastApiIntegration(failed_request_status_codes=set()),
            AtexitIntegration(),  # flush queued events when a process exits
            DedupeIntegration(),  # one event when a hook and a handler both see an exception
            ModulesIntegration(),  # installed package versions
        ],
        # Denied by name as well, should a later option re-enable defaults: each captures
        # handled errors, log text, queries or URLs (uncaught exceptions are reported by the
        # hooks of app/core/logging.py, not the SDK's excepthook and threading integrations).
        disabled_integrations=[
            OpenAIIntegration(),
            LoggingIntegration(),
            SqlalchemyIntegration(),
            StdlibIntegration(),
        ],
    )
    return True


def report_exception(exc: BaseException, *, mechanism: str = "launchproof") -> None:
    """Send an exception the last-resort middleware handled, tagged with the request id."""
    client = sentry_sdk.get_client()
    if not client.is_active():
        return
    event, hint = event_from_exception(
        exc,
        client_options=client.options,
        mechanism={"type": mechanism, "handled": False},
    )
    with sentry_sdk.new_scope() as scope:
        request_id = current_request_id()
        if request_id:
            scope.set_tag("request_id", request_id)
        scope.capture_event(event, hint=hint)


def scrub_text_deep(text: str) -> str:
    """Exception text: the same scrub as in log lines (app/core/redaction.py)."""
    return scrub_exception_text(text)


def _scrub_request(request: Any) -> dict[str, Any] | None:
    if not isinstance(request, dict):
        return None
    kept: dict[str, Any] = {}
    for field in _KEPT_REQUEST_FIELDS:
        value = request.get(field)
        if isinstance(value, str):
            kept[field] = scrub_text(value.split("?", 1)[0].split("#", 1)[0])
    headers = request.get("headers")
    if isinstance(headers, dict):
        kept["headers"] = {
            str(name): scrub_text(str(value))
            for name, value in headers.items()
            if str(name).lower() in _KEPT_HEADERS
        }
    return kept


def _scrub_user(user: Any) -> dict[str, Any] | None:
    if isinstance(user, dict) and isinstance(user.get("id"), str | int):
        return {"id": scrub_text(str(user["id"]))}
    return None


def _scrub_frames(exception: Any) -> None:
    """Keep code fields of stack frames, drop any variables; scrub what the redaction missed."""
    if not isinstance(exception, dict):
        return
    for item in exception.get("values") or []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("value"), str):
            item["value"] = scrub_text_deep(item["value"])
        frames = (item.get("stacktrace") or {}).get("frames") or []
        for frame in frames:
            if isinstance(frame, dict):
                frame.pop("vars", None)


def _scrub_logentry(logentry: Any) -> dict[str, Any] | None:
    if not isinstance(logentry, dict):
        return None
    kept: dict[str, Any] = {}
    for field in ("message", "formatted"):
        if isinstance(logentry.get(field), str):
            kept[field] = scrub_text_deep(logentry[field])
    if logentry.get("params"):
        kept["params"] = REDACTED
    return kept


def scrub_event(event: Event, _hint: Hint) -> Event | None:
    """``before_send``: a scrubbed copy of ``event`` (never dropped: the error still counts)."""
    raw: dict[str, Any] = dict(event)
    special = {
        "request": _scrub_request(raw.pop("request", None)),
        "user": _scrub_user(raw.pop("user", None)),
        "logentry": _scrub_logentry(raw.pop("logentry", None)),
    }
    message = raw.pop("message", None)
    breadcrumbs = raw.pop("breadcrumbs", None)
    exception = raw.pop("exception", None)
    threads = raw.pop("threads", None)
    scrubbed: dict[str, Any] = {key: _redact(value, key) for key, value in raw.items()}
    scrubbed.update({key: value for key, value in special.items() if value is not None})
    if isinstance(message, str):
        scrubbed["message"] = scrub_text_deep(message)
    for name, value in (("exception", exception), ("threads", threads)):
        if isinstance(value, dict):
            kept = _redact_keeping_code(value)
            _scrub_frames(kept)
            scrubbed[name] = kept
    if isinstance(breadcrumbs, dict):
        values = [
            _scrub_crumb(crumb)
            for crumb in breadcrumbs.get("values") or []
            if isinstance(crumb, dict)
        ]
        scrubbed["breadcrumbs"] = {"values": values}
    return cast(Event, scrubbed)


def _redact_keeping_code(value: Any, key: str = "", depth: int = 0) -> Any:
    """``redact_value`` over exception data, leaving source lines and paths as they are."""
    if key in _FRAME_CODE_FIELDS:
        return value
    if isinstance(value, dict):
        return {k: _redact_keeping_code(v, str(k), depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_keeping_code(item, key, depth + 1) for item in value]
    if key == "value" and isinstance(value, str):
        return value  # the exception value: scrub_text_deep in _scrub_frames
    return _redact(value, key, depth)


def _redact(value: Any, key: str, depth: int = 0) -> Any:
    """``redact_value``, keeping timestamps (datetimes before serialisation) as they are."""
    if isinstance(value, datetime):
        return value
    return redact_value(value, key=key, depth=depth)


def _scrub_crumb(crumb: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in crumb.items():
        if key == "message" and isinstance(value, str):
            kept[key] = scrub_text(_QUERY.sub(r"\1?[redacted]", value))
        elif key == "data" and isinstance(value, dict):
            kept[key] = redact_value(value)
        else:
            kept[key] = _redact(value, key)
    return kept


def scrub_breadcrumb(crumb: Breadcrumb, _hint: BreadcrumbHint) -> Breadcrumb | None:
    """``before_breadcrumb``: the cheap scrub (the deep scan runs once, in ``scrub_event``)."""
    return _scrub_crumb(dict(crumb))
