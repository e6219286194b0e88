"""What one caller (the bot's fetch tool, webhook delivery) may reach, as a frozen value.

Allowlist rule: an entry ``example.com`` matches that host exactly (case, a trailing dot and the
Unicode/IDNA spelling do not matter: both sides are compared as lower-case IDNA A-labels). An
entry ``*.example.com`` matches every subdomain at any depth (``a.example.com``,
``a.b.example.com``) and not ``example.com`` itself; list both to allow both. Nothing else is a
pattern: ``*`` only as a whole leftmost label, never ``*.com`` (one label after the star), never
an IP address (use ``dev_allowed_addresses``). There is no public-suffix list, so ``*.co.uk``
is accepted: don't write it. ``allow_any_public_host`` replaces the allowlist for callers whose
targets are chosen by customers (webhook endpoints); the address checks still apply.

Production refuses plain http and any loopback allowance when the policy is built, so a
misconfigured caller fails at start-up, not on the first request.
"""

from __future__ import annotations

from dataclasses import dataclass

import idna

from app.core.config import Environment, Settings
from app.core.outbound.addresses import IPAddress, ends_in_number
from app.core.outbound.errors import OutboundPolicyError

MAX_RESPONSE_BYTES_CEILING = 50 * 1024 * 1024
MAX_TIMEOUT_SECONDS = 120.0


def normalise_hostname(host: str) -> str:
    """Lower-case IDNA A-label form without a trailing dot; raises ``idna.IDNAError``."""
    return idna.encode(host, uts46=True, std3_rules=True).decode("ascii").removesuffix(".")


def normalise_allowed_domain(pattern: str) -> str:
    """An allowlist entry in the form it is matched in; raises ``OutboundPolicyError``.

    Use it to validate entries where they are entered (a bot's settings), not only at fetch time.
    """
    wildcard = pattern.startswith("*.")
    base = pattern[2:] if wildcard else pattern
    if "*" in base:
        raise OutboundPolicyError("'*' is allowed only as the whole leftmost label")
    try:
        ascii_base = normalise_hostname(base)
    except (idna.IDNAError, UnicodeError) as exc:
        raise OutboundPolicyError("allowed domain is not a valid host name") from exc
    if ends_in_number(ascii_base):
        raise OutboundPolicyError("allowed domains are names, not IP addresses")
    if wildcard and "." not in ascii_base:
        raise OutboundPolicyError("a wildcard needs at least two labels after '*.'")
    return f"*.{ascii_base}" if wildcard else ascii_base


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Limits for one kind of outbound request. See the module docstring for the allowlist rule.

    ``allowed_ports`` are extra ports beyond the scheme's default (80/443).
    ``dev_allowed_addresses`` lets tests and local development reach specific loopback
    addresses, both as IP-literal URLs (canonical spelling only) and as DNS answers; refused in
    production. With ``truncate_oversize_body`` a body past ``max_response_bytes`` is cut at the
    cap and flagged ``truncated``; without it the request fails with ``response_too_large``.
    Reading stops at the cap either way.
    """

    environment: Environment = Environment.PRODUCTION
    allowed_domains: frozenset[str] = frozenset()
    allow_any_public_host: bool = False
    allow_http: bool = False
    allowed_ports: frozenset[int] = frozenset()
    dev_allowed_addresses: frozenset[IPAddress] = frozenset()
    max_response_bytes: int = 1024 * 1024
    truncate_oversize_body: bool = False
    timeout_seconds: float = 10.0
    max_request_body_bytes: int = 256 * 1024

    def __post_init__(self) -> None:
        production = self.environment is Environment.PRODUCTION
        if production and self.allow_http:
            raise OutboundPolicyError("plain http is refused in production")
        if production and self.dev_allowed_addresses:
            raise OutboundPolicyError("dev_allowed_addresses is refused in production")
        if any(not address.is_loopback for address in self.dev_allowed_addresses):
            raise OutboundPolicyError("dev_allowed_addresses may hold loopback addresses only")
        if self.allow_any_public_host and self.allowed_domains:
            raise OutboundPolicyError(
                "allow_any_public_host and allowed_domains exclude each other"
            )
        if any(not 1 <= port <= 65535 for port in self.allowed_ports):
            raise OutboundPolicyError("allowed_ports must be between 1 and 65535")
        if not 1 <= self.max_response_bytes <= MAX_RESPONSE_BYTES_CEILING:
            raise OutboundPolicyError("max_response_bytes is out of range")
        if not 0 < self.timeout_seconds <= MAX_TIMEOUT_SECONDS:
            raise OutboundPolicyError("timeout_seconds is out of range")
        if self.max_request_body_bytes < 0:
            raise OutboundPolicyError("max_request_body_bytes must not be negative")
        normalised = frozenset(normalise_allowed_domain(entry) for entry in self.allowed_domains)
        object.__setattr__(self, "allowed_domains", normalised)

    def allows_host(self, host: str) -> bool:
        """Whether a normalised host name (see ``normalise_hostname``) is on the allowlist."""
        if self.allow_any_public_host or host in self.allowed_domains:
            return True
        labels = host.split(".")
        return any(
            f"*.{'.'.join(labels[index:])}" in self.allowed_domains
            for index in range(1, len(labels))
        )


def policy_for(
    settings: Settings,
    *,
    allowed_domains: frozenset[str] = frozenset(),
    allow_any_public_host: bool = False,
    allow_http: bool = False,
    allowed_ports: frozenset[int] = frozenset(),
    dev_allowed_addresses: frozenset[IPAddress] = frozenset(),
    max_response_bytes: int = 1024 * 1024,
    truncate_oversize_body: bool = False,
    timeout_seconds: float = 10.0,
    max_request_body_bytes: int = 256 * 1024,
) -> OutboundPolicy:
    """Build a policy for the running environment; production refuses http and dev allowances."""
    return OutboundPolicy(
        environment=settings.environment,
        allowed_domains=allowed_domains,
        allow_any_public_host=allow_any_public_host,
        allow_http=allow_http,
        allowed_ports=allowed_ports,
        dev_allowed_addresses=dev_allowed_addresses,
        max_response_bytes=max_response_bytes,
        truncate_oversize_body=truncate_oversize_body,
        timeout_seconds=timeout_seconds,
        max_request_body_bytes=max_request_body_bytes,
    )
