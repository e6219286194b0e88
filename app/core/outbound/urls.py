"""Strict parsing of an outbound URL into the parts we will actually use.

Checks run in a fixed order, so each URL has one reason: characters (control, whitespace,
format characters, backslash) → scheme (http/https) → userinfo → host and port syntax → IP
literal. The result is policy-free; ``targets.check_target`` applies the policy.

Hosts are compared and sent in one form: lower-case IDNA A-labels (UTS #46 mapping, so
``ＥＸＡＭＰＬＥ.com`` and ``127。0。0。1`` become ``example.com`` and ``127.0.0.1`` *before* any
decision), one trailing dot removed. A host that "ends in a number" (the URL standard's rule) is
an IPv4 literal: it is returned only in canonical dotted-decimal and refused as ``ip_literal`` in
any other spelling (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``) or when it is not a
valid address at all (``1.2.3.4.5``). Bracketed IPv6 literals with a zone id are refused too.
Fragments are dropped; non-ASCII in the path or query is percent-encoded as UTF-8.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from ipaddress import IPv6Address
from urllib.parse import quote, urlsplit

import idna

from app.core.outbound.addresses import IPAddress, ends_in_number, parse_ipv4
from app.core.outbound.errors import OutboundRefused, RefusalReason
from app.core.outbound.policy import normalise_hostname

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
_PORT = re.compile(r"[0-9]{1,5}")
# Cc control, Cf format (zero-width and soft hyphen, which IDNA would silently delete),
# Z* separators (every kind of space).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class ParsedURL:
    scheme: str
    host: str  # A-label host name, or the canonical text of an IP literal
    port: int
    target: str  # path and query, ASCII, as sent on the request line
    ip_literal: IPAddress | None

    @property
    def authority(self) -> str:
        """``host[:port]`` as it belongs in the Host header (port only when not the default)."""
        host = f"[{self.host}]" if isinstance(self.ip_literal, IPv6Address) else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.authority}{self.target}"


def parse_url(url: str) -> ParsedURL:
    """Parse ``url`` or raise ``OutboundRefused`` (see the module docstring for the order)."""
    if len(url) > MAX_URL_LENGTH or "\\" in url:
        raise OutboundRefused(RefusalReason.INVALID_URL)
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in url):
        raise OutboundRefused(RefusalReason.INVALID_URL)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise OutboundRefused(RefusalReason.INVALID_URL) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise OutboundRefused(RefusalReason.SCHEME_NOT_ALLOWED)
    if not url[len(scheme) + 1 :].startswith("//"):
        raise OutboundRefused(RefusalReason.INVALID_URL)  # "https:example.com": no authority
    if "@" in parts.netloc:
        raise OutboundRefused(RefusalReason.USERINFO)
    host_text, port_text, bracketed = _split_authority(parts.netloc)
    port = _parse_port(port_text, DEFAULT_PORTS[scheme])
    host, literal = _parse_ipv6(host_text) if bracketed else _parse_host(host_text)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/"):
        raise OutboundRefused(RefusalReason.INVALID_URL)
    target = "".join(char if char.isascii() else quote(char, safe="") for char in target)
    return ParsedURL(scheme=scheme, host=host, port=port, target=target, ip_literal=literal)


def _split_authority(netloc: str) -> tuple[str, str | None, bool]:
    if netloc.startswith("["):
        end = netloc.find("]")
        rest = netloc[end + 1 :]
        if end == -1 or (rest and not rest.startswith(":")):
            raise OutboundRefused(RefusalReason.INVALID_URL)
        return netloc[1:end], (rest[1:] if rest else None), True
    if netloc.count(":") > 1:
        raise OutboundRefused(RefusalReason.INVALID_URL)
    host, colon, port = netloc.partition(":")
    return host, (port if colon else None), False


def _parse_port(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise OutboundRefused(RefusalReason.INVALID_URL)
    return int(text)


def _parse_ipv6(text: str) -> tuple[str, IPAddress]:
    if "%" in text:
        raise OutboundRefused(RefusalReason.IP_LITERAL)  # zone id: link-local by construction
    try:
        address = IPv6Address(text)
    except ValueError:
        raise OutboundRefused(RefusalReason.INVALID_URL) from None
    return str(address), address


def _parse_host(text: str) -> tuple[str, IPAddress | None]:
    if not text or "%" in text:
        raise OutboundRefused(RefusalReason.INVALID_URL)
    try:
        host = normalise_hostname(text)
    except (idna.IDNAError, UnicodeError):
        raise OutboundRefused(RefusalReason.INVALID_URL) from None
    if not ends_in_number(host):
        return host, None
    try:
        address = parse_ipv4(host)
    except ValueError:
        raise OutboundRefused(RefusalReason.IP_LITERAL) from None
    if str(address) != host:
        raise OutboundRefused(
            RefusalReason.IP_LITERAL
        )  # only the canonical spelling can be allowed
    return host, address
