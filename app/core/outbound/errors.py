"""Typed outcomes of an outbound request that did not produce a response.

``OutboundRefused`` means our policy said no before anything was sent (or, for
``blocked_address``, before any connection was opened). ``OutboundFailed`` means the policy
allowed the request and the network or the peer let us down. Messages are fixed sentences per
reason: they never carry the URL (it may hold a token), a resolved address (it would map the
private network for whoever chose the URL) or any byte of a response.
"""

from __future__ import annotations

from enum import StrEnum


class RefusalReason(StrEnum):
    INVALID_URL = "invalid_url"
    SCHEME_NOT_ALLOWED = "scheme_not_allowed"
    USERINFO = "userinfo"
    IP_LITERAL = "ip_literal"
    HOST_NOT_ALLOWED = "host_not_allowed"
    PORT_NOT_ALLOWED = "port_not_allowed"
    DNS_FAILED = "dns_failed"
    BLOCKED_ADDRESS = "blocked_address"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    HEADER_NOT_ALLOWED = "header_not_allowed"
    REQUEST_TOO_LARGE = "request_too_large"


class FailureReason(StrEnum):
    TIMEOUT = "timeout"
    CONNECT_FAILED = "connect_failed"
    TLS_FAILED = "tls_failed"
    RESPONSE_TOO_LARGE = "response_too_large"
    NETWORK_ERROR = "network_error"


_REFUSALS: dict[RefusalReason, str] = {
    RefusalReason.INVALID_URL: "The URL is not a valid absolute http(s) URL.",
    RefusalReason.SCHEME_NOT_ALLOWED: "The URL scheme is not allowed.",
    RefusalReason.USERINFO: "URLs with credentials (user:password@) are not allowed.",
    RefusalReason.IP_LITERAL: "URLs must name a host, not an IP address.",
    RefusalReason.HOST_NOT_ALLOWED: "The host is not on the allowlist.",
    RefusalReason.PORT_NOT_ALLOWED: "The port is not allowed.",
    RefusalReason.DNS_FAILED: "The host name could not be resolved.",
    RefusalReason.BLOCKED_ADDRESS: "The host resolves to an address that may not be reached.",
    RefusalReason.METHOD_NOT_ALLOWED: "The HTTP method is not allowed.",
    RefusalReason.HEADER_NOT_ALLOWED: "A request header is not allowed.",
    RefusalReason.REQUEST_TOO_LARGE: "The request body is too large.",
}

_FAILURES: dict[FailureReason, str] = {
    FailureReason.TIMEOUT: "The request did not complete in time.",
    FailureReason.CONNECT_FAILED: "The connection could not be established.",
    FailureReason.TLS_FAILED: "The TLS handshake or certificate verification failed.",
    FailureReason.RESPONSE_TOO_LARGE: "The response is larger than allowed.",
    FailureReason.NETWORK_ERROR: "The connection failed while talking to the host.",
}


class OutboundError(Exception):
    """Base of both outcomes; ``reason_code`` is the stable machine code."""

    reason_code: str


class OutboundRefused(OutboundError):
    """The policy refused the request; nothing was sent."""

    def __init__(self, reason: RefusalReason) -> None:
        self.reason = reason
        self.reason_code = reason.value
        super().__init__(_REFUSALS[reason])


class OutboundFailed(OutboundError):
    """The request was allowed but did not produce a usable response."""

    def __init__(self, reason: FailureReason) -> None:
        self.reason = reason
        self.reason_code = reason.value
        super().__init__(_FAILURES[reason])


class OutboundPolicyError(ValueError):
    """A policy that must not exist (http or loopback allowances in production, bad patterns)."""
