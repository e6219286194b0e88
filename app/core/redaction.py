"""Redaction at source for every log line (structlog events and stdlib records alike).

Values under sensitive keys are replaced whole; every other string is scanned for credential
formats, presigned URLs and e-mail addresses, and control characters are escaped so a value can
never forge a log line. The event (a constant sentence) keeps its words: only the same pattern
scrubbing applies to it, which leaves constant sentences unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from app.core.secret_scan import find_secret_types

REDACTED = "[redacted]"
MAX_DEPTH = 8

# Keys whose value is content or a credential, whatever it looks like (lower case, ``-`` -> ``_``).
_SENSITIVE_KEYS = frozenset(
    {
        "content",
        "prompt",
        "system_prompt",
        "body",
        "text",
        "message",
        "messages",
        "file",
        "data",
        "arguments",
        "args",
        "detail",
        "note",
        "title",
        "email",
        "to",
        "from",
        "cookie",
        "cookies",
        "set_cookie",
        "authorization",
        "proxy_authorization",
        "x_api_key",
        "api_key",
        "key",
        "dsn",
        "url",
        "presigned_url",
        "headers",
        "query",
        "query_string",
        "params",
    }
)
# Any key containing one of these is a credential (numbers, e.g. ``prompt_tokens``, are kept).
_SENSITIVE_PARTS = ("password", "passwd", "secret", "token", "cookie", "authoriz", "api_key")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Presigned URLs: drop the whole query string of a URL that carries a signature or credential.
    (
        re.compile(
            r"(https?://[^\s?\"'<>]*)\?[^\s\"'<>]*(?:X-Amz-(?:Signature|Credential)|Signature=)"
            r"[^\s\"'<>]*",
            re.IGNORECASE,
        ),
        r"\1?[redacted]",
    ),
    (re.compile(r"\blpk_[A-Za-z0-9_-]{8,}"), "lpk_[redacted]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]{8,}"), "whsec_[redacted]"),
    (re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}"), "sk-[redacted]"),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE), r"\1 [redacted]"),
    # JSON Web Tokens.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "[redacted jwt]"),
    # key=value / "key": "value" credentials inside free text (exception messages, URLs).
    (
        re.compile(
            r"""(?P<k>["']?[A-Za-z0-9_-]*(?:password|passwd|secret|token|cookie|authorization"""
            r"""|api[_-]?key|signature|credential)[A-Za-z0-9_-]*["']?\s*[:=]\s*)"""
            # (?!...): an already-redacted value stays as it is (scrubbing twice is harmless).
            r"""(?P<v>"[^"]*"|'[^']*'|(?!\[redacted\])[^\s,;&}\]]+)""",
            re.IGNORECASE,
        ),
        r"\g<k>[redacted]",
    ),
)
_EMAIL = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Every substitution above needs one of these literals (a superset, case-insensitive): a string
# without any of them (ids, route templates, addresses, numbers: nearly all of an access line)
# would come out unchanged, so one search replaces nine substitutions for it.
_MAY_NEED_SCRUB = re.compile(
    r"lpk_|whsec_|sk-|bearer|basic|eyj|passw|secret|token|cookie|authoriz|api[_-]?key"
    r"|signature|credential|@|[\x00-\x1f\x7f-\x9f\u2028\u2029]",
    re.IGNORECASE,
)
# Rendered tracebacks (rare, and may quote request data or a library's message): worth the
# slower generic scan. Not ``error``: our events put an error class or code there on hot paths.
_DEEP_SCAN_KEYS = frozenset({"exception", "exc_text", "exc_value", "stack"})

# Exception text of third-party code quotes data. SQLAlchemy appends a failed statement's bound
# values (``[parameters: ...]``, up to its "Background on this error" link), PostgreSQL's DETAIL
# line quotes the offending row or key, pydantic repeats the rejected input, and URLs carry
# query strings: all go before the credential scan, which cannot recognise plain text.
_SQL_PARAMETERS = re.compile(
    r"\[parameters: .*?(?=\s*\(Background on this error|\Z)", re.DOTALL | re.IGNORECASE
)
_PG_DETAIL = re.compile(r"^(\s*DETAIL:\s*).*$", re.MULTILINE)
_PYDANTIC_INPUT = re.compile(r"input_value=.*?(?=, input_type=|\]$)", re.DOTALL | re.MULTILINE)
_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]*)\?[^\s#\"'<>]*")
# An exception message longer than this is cut (a hostile peer's 10 MB error body).
MAX_EXCEPTION_TEXT = 4000


def _escape_control(match: re.Match[str]) -> str:
    char = match.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")


def scrub_text(text: str, *, deep: bool = False) -> str:
    """Mask credentials, presigned URLs and e-mail addresses in ``text``; escape control chars.

    ``deep`` adds the detect-secrets scan (AWS, GitHub, Slack, private keys, ...), which is
    slower: it runs on exception text, not on every field of every line.
    """
    if not deep and _MAY_NEED_SCRUB.search(text) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    text = _EMAIL.sub(r"\1***@\2", text)
    if deep and find_secret_types(text):
        lines = text.splitlines() or [text]
        kept = [line for line in lines if not find_secret_types(line)]
        text = "\n".join(kept + ["[redacted line(s) holding a credential]"])
    return _CONTROL.sub(_escape_control, text)


def scrub_exception_text(text: str) -> str:
    """Text of an exception (any library's): cut, data-quoting parts dropped, deep-scanned.

    Newlines stay (a Sentry event keeps them readable); log lines escape them when rendered.
    """
    if len(text) > MAX_EXCEPTION_TEXT:
        text = text[:MAX_EXCEPTION_TEXT] + " [truncated]"
    text = _SQL_PARAMETERS.sub("[parameters: [redacted]]", text)
    text = _PG_DETAIL.sub(r"\1[redacted]", text)
    text = _PYDANTIC_INPUT.sub("input_value=[redacted]", text)
    text = _URL_QUERY.sub(r"\1?[redacted]", text)
    return "\n".join(scrub_text(line, deep=True) for line in text.split("\n"))


def _is_sensitive_key(key: str, value: Any) -> bool:
    name = key.lower().replace("-", "_")
    if name.endswith(("_id", "_ids", "_kind", "_count", "_total")):
        return False  # identifiers and counters (``api_key_id``), never the credential itself
    if name in _SENSITIVE_KEYS:
        return value is not None and not isinstance(value, bool | int | float)
    if any(part in name for part in _SENSITIVE_PARTS):
        return value is not None and not isinstance(value, bool | int | float)
    return False


def redact_value(value: Any, *, key: str = "", depth: int = 0) -> Any:
    """A copy of ``value`` with sensitive keys replaced and every string scrubbed."""
    if key and _is_sensitive_key(key, value):
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value, deep=key in _DEEP_SCAN_KEYS)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if depth >= MAX_DEPTH:
        return "[redacted: too deep]"
    if isinstance(value, Mapping):
        return {
            scrub_text(str(k)): redact_value(v, key=str(k), depth=depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, depth=depth + 1) for item in value]
    if isinstance(value, BaseException):
        return scrub_exception_text(f"{type(value).__name__}: {value}")
    return scrub_text(str(value))


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> dict[str, Any]:
    """structlog processor: run after ``format_exc_info`` and before the renderer."""
    redacted: dict[str, Any] = {}
    for key, value in event_dict.items():
        if key == "event" and value is not None and event_dict.get("_from_structlog") is False:
            # A stdlib record's message is free text from third-party code (often an
            # exception's): the deep scan. Our own events are constant sentences.
            redacted[key] = scrub_exception_text(str(value)).replace("\n", "\\n")
        elif key == "event":
            redacted[key] = scrub_text(str(value)) if value is not None else value
        elif key in ("_record", "_from_structlog"):
            redacted[key] = value  # ProcessorFormatter bookkeeping, removed before rendering
        else:
            redacted[key] = redact_value(value, key=key)
    return redacted
