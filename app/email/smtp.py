"""SMTP_URL parsing and one delivery with aiosmtplib.

``smtp://host:25`` plain (a relay on the same host or private network), ``smtp+starttls://``
(STARTTLS required, port 587 by default) and ``smtps://`` (implicit TLS, port 465). Credentials,
when the relay needs them, ride in the URL (``smtps://user:password@host``), which is why the
setting is a SecretStr; certificates are always verified when TLS is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import aiosmtplib

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class InvalidSMTPURL(ValueError):
    """SMTP_URL is malformed; the message never repeats the URL (it may hold a password)."""


@dataclass(frozen=True)
class SMTPTarget:
    host: str
    port: int
    use_tls: bool
    start_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SMTPTarget:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise InvalidSMTPURL("SMTP_URL must be smtp://, smtp+starttls:// or smtps://host[:port]")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise InvalidSMTPURL("SMTP_URL has an invalid port") from None
    return SMTPTarget(
        host=parts.hostname,
        port=port,
        use_tls=scheme == "smtps",
        start_tls=scheme == "smtp+starttls",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


async def deliver(
    target: SMTPTarget, raw: bytes, *, sender: str, recipient: str, timeout_seconds: float
) -> None:
    """Hand one message to the relay; raises an aiosmtplib error (or OSError) on failure."""
    await aiosmtplib.send(
        raw,
        sender=sender,
        recipients=[recipient],
        hostname=target.host,
        port=target.port,
        use_tls=target.use_tls,
        # False (not None) on plain smtp://: never upgrade opportunistically into a cert error.
        start_tls=target.start_tls,
        username=target.username,
        password=target.password,
        timeout=timeout_seconds,
    )


def is_permanent(exc: BaseException) -> bool:
    """A 5xx reply (unknown recipient, policy refusal): retrying cannot help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(error.code >= 500 for error in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False


# "421 Service not available": the relay answered only to say it cannot take mail at all now.
SERVICE_NOT_AVAILABLE = 421


def relay_unavailable(exc: BaseException) -> bool:
    """The relay was not reached or dropped us (refused, reset, timed out, 421 at connect).

    Our relay's outage, not anything about the message: such a failure never counts towards
    giving a message up, however long the outage lasts.
    """
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code == SERVICE_NOT_AVAILABLE
    return isinstance(exc, OSError | TimeoutError)


def error_label(exc: BaseException) -> str:
    """What ``last_error`` keeps: the class and SMTP code, never the reply text or an address."""
    code = getattr(exc, "code", None)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
    return f"{type(exc).__name__}:{code}" if isinstance(code, int) else type(exc).__name__
