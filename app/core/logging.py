"""The one logging setup of every process: structlog JSON lines, redacted at source.

``python -m app`` configures it in the CLI entry point before any command runs (``serve``,
``worker``, migrations, the model stub, the mail sink, every management command), the API's
``create_app`` and Alembic's ``env.py`` configure it again for servers and tools started another
way; configuring twice is harmless.

structlog events and stdlib records (uvicorn, asyncio, SQLAlchemy, third-party libraries,
``warnings``) go through the same processors: timestamp, level, the exception as structured
frames (file, line, function: never local variables), redaction (app/core/redaction.py; the
deep credential scan for exception text and third-party messages), one JSON line each on
standard error. Standard output is left to what a command prints for a person or a script
(``check-config``'s list, ``dev-db --admin-url-only``'s URL, ``check-domain``'s results), so
a log line can never corrupt it. structlog's console renderer (which shows locals through rich)
is never used.

Uncaught exceptions at the top of a process (``sys.excepthook``, ``threading.excepthook``, an
asyncio loop's exception handler) are logged through the same path and reported to Sentry
(app/core/error_reporting.py), instead of Python's default traceback on standard error.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Coroutine, MutableMapping
from types import TracebackType
from typing import Any, TypeVar

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import ExcInfo, Processor

from app.core.config import Settings
from app.core.redaction import redact_event, scrub_exception_text

T = TypeVar("T")

# uvicorn installs handlers of its own on these before the app is built: ours replace them.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.asgi", "starlette", "fastapi")
# Loggers that print configuration of their own (alembic.ini's [loggers], libraries' defaults):
# their records reach our root handler instead.
_PROPAGATED_LOGGERS = (*_SERVER_LOGGERS, "alembic", "sqlalchemy", "aiosmtpd", "mail.log")

# Frames only: show_locals stays False whatever structlog's default becomes, and rich (installed
# as a dependency of a dev tool) never computes a repr of anything.
_TRANSFORMER = ExceptionDictTransformer(show_locals=False, use_rich=False, max_frames=30)

log = structlog.get_logger()


def _exc_info(value: Any) -> ExcInfo | None:
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3 and value[0] is not None:
        return value
    if value is True:
        info = sys.exc_info()
        return info if info[0] is not None else None
    return None


def _scrub_stack(stack: dict[str, Any]) -> dict[str, Any]:
    stack["exc_value"] = scrub_exception_text(str(stack.get("exc_value", "")))
    stack["exc_notes"] = [scrub_exception_text(str(note)) for note in stack.get("exc_notes", [])]
    syntax = stack.get("syntax_error")
    if isinstance(syntax, dict):
        syntax["line"] = scrub_exception_text(str(syntax.get("line", "")))
    for frame in stack.get("frames", []):
        frame.pop("locals", None)
    stack["exceptions"] = [
        [_scrub_stack(inner) for inner in group] for group in stack.get("exceptions", [])
    ]
    return stack


def render_exception(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: ``exc_info`` -> ``exception``, a list of scrubbed stacks of frames."""
    info = _exc_info(event_dict.pop("exc_info", None))
    if info is not None:
        event_dict["exception"] = [_scrub_stack(stack) for stack in _TRANSFORMER(info)]
    return event_dict


def shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def tail_processors() -> list[Processor]:
    return [
        render_exception,
        redact_event,
        structlog.processors.JSONRenderer(),
    ]


def stdlib_formatter() -> structlog.stdlib.ProcessorFormatter:
    """The formatter for stdlib records: the same chain as structlog events."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared_processors(), structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *tail_processors(),
        ],
    )


class _JSONHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Our root handler (a class of its own so ``logging_configured`` can recognise it)."""


def logging_configured() -> bool:
    return any(isinstance(handler, _JSONHandler) for handler in logging.getLogger().handlers)


def configure_logging(settings: Settings | None = None) -> None:
    """Configure this process's logging; ``settings`` may be missing (they failed to load)."""
    level = logging.DEBUG if settings is not None and settings.debug else logging.INFO
    handler = _JSONHandler(sys.stderr)
    handler.setFormatter(stdlib_formatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _PROPAGATED_LOGGERS:
        named = logging.getLogger(name)
        for existing in list(named.handlers):
            named.removeHandler(existing)
        named.propagate = True
        named.disabled = False
    # The access line is the edge layer's (app/core/access_log.py: route template, no raw path).
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    # httpx (and the openai SDK's httpx2) log every outbound URL at INFO (model endpoints,
    # fetched pages): not for our logs; alembic lists its plugins at INFO on every run.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Python's warnings (DeprecationWarning, SAWarning, ...) become records, not stderr text.
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*shared_processors(), *tail_processors()],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    sys.excepthook = log_uncaught
    sys.unraisablehook = log_unraisable
    threading.excepthook = log_uncaught_in_thread


def _report(exc: BaseException) -> None:
    from app.core.error_reporting import report_exception

    report_exception(exc, mechanism="uncaught")


def log_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """``sys.excepthook``: the process is ending on ``exc``; one redacted JSON line."""
    if issubclass(exc_type, KeyboardInterrupt):
        log.info("interrupted")
        return
    log.critical("uncaught exception", exc_type=exc_type.__name__, exc_info=(exc_type, exc, tb))
    _report(exc)


def log_unraisable(args: Any) -> None:
    """``sys.unraisablehook``: an exception Python could not raise (``__del__``, a finaliser)."""
    exc = args.exc_value
    if exc is None:
        return
    log.warning(
        "unraisable exception",
        exc_type=type(exc).__name__,
        exc_info=(type(exc), exc, args.exc_traceback),
    )


def log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    """``threading.excepthook``: a thread died on an exception."""
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    log.error(
        "uncaught exception in thread",
        exc_type=args.exc_type.__name__,
        thread=args.thread.name if args.thread is not None else None,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
    _report(args.exc_value)


def log_asyncio_exception(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An event loop's exception handler (a task's exception never retrieved, a callback's)."""
    exc = context.get("exception")
    if isinstance(exc, BaseException):
        log.error("uncaught exception in event loop", exc_type=type(exc).__name__, exc_info=exc)
        _report(exc)
    else:
        # No exception object: asyncio's own message (fixed sentences naming the failed hook).
        log.error("event loop error", asyncio_message=str(context.get("message", "")))


def _new_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(log_asyncio_exception)
    return loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a loop whose unhandled exceptions take the redacted path."""
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        return runner.run(main)
