"""structlog JSON logs, redacted at source (app/core/redaction.py).

structlog events and stdlib records (uvicorn, starlette, third-party libraries) go through the
same processors: timestamp, level, rendered exception, redaction, JSON renderer, one line each.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import Processor

from app.core.config import Settings
from app.core.redaction import redact_event

# uvicorn installs handlers of its own on these before the app is built: ours replace them.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.asgi", "starlette", "fastapi")


def shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def tail_processors() -> list[Processor]:
    return [
        structlog.processors.format_exc_info,
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


def configure_logging(settings: Settings) -> None:
    level = logging.DEBUG if settings.debug else logging.INFO
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(stdlib_formatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        for existing in list(server_logger.handlers):
            server_logger.removeHandler(existing)
        server_logger.propagate = True
    # The access line is RequestContextMiddleware's (route template, no raw path or query).
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    # httpx (and the openai SDK's httpx2) log every outbound URL at INFO (model endpoints,
    # fetched pages): not for our logs.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared_processors(), *tail_processors()],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=True,
    )
