"""Build an RFC 5322 message from an outbox row and DKIM-sign it (dkimpy, rsa-sha256).

The signature covers From, To, Subject, Date, Message-ID, MIME-Version and Content-Type with
relaxed/relaxed canonicalisation (tolerates the header rewrapping relays do), and the whole
body. The signing domain is DKIM_DOMAIN or the domain of EMAIL_FROM, so the signature aligns
with the From domain as DMARC requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

import dkim

from app.core.config import Settings

SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
)


@dataclass(frozen=True)
class Signer:
    selector: str
    domain: str
    private_key_pem: bytes

    def sign(self, raw: bytes) -> bytes:
        """Return ``raw`` with a DKIM-Signature header prepended."""
        signature: bytes = dkim.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key_pem,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )
        return signature + raw


def from_domain(settings: Settings) -> str:
    _name, address = parseaddr(settings.email_from)
    return address.rpartition("@")[2].lower()


def envelope_sender(settings: Settings) -> str:
    return parseaddr(settings.email_from)[1]


def signer_from_settings(settings: Settings) -> Signer | None:
    """The configured signer, or None when DKIM is not configured (development and tests)."""
    if settings.dkim_private_key is None or settings.dkim_selector is None:
        return None
    return Signer(
        selector=settings.dkim_selector,
        domain=(settings.dkim_domain or from_domain(settings)).lower(),
        private_key_pem=settings.dkim_private_key.get_secret_value().encode(),
    )


def new_message_id(settings: Settings) -> str:
    return make_msgid(domain=from_domain(settings) or None)


def build_message(
    settings: Settings,
    *,
    to: str,
    subject: str,
    body_text: str,
    message_id: str,
    created_at: datetime | None = None,
) -> bytes:
    """A plain-text UTF-8 message with CRLF line endings, ready to sign and send."""
    message = EmailMessage(policy=SMTP)
    message["From"] = settings.email_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(created_at or datetime.now(UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to platform mail
    message.set_content(body_text, charset="utf-8")
    return message.as_bytes()
