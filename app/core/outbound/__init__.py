"""The one guard for HTTP requests that leave the process (bot fetch tool, outgoing webhooks).

Everything a caller needs is re-exported here::

    policy = policy_for(settings, allowed_domains=frozenset({"api.example.com"}))
    target = await check_url(url, policy)               # at registration time (advisory)
    response = await fetch(OutboundRequest(url), policy)  # checks again, then sends

Modules: ``urls`` (strict parsing, IP-literal spellings), ``addresses`` (which addresses are
blocked), ``policy`` (allowlist and limits), ``targets`` (one DNS resolution, every answer
checked), ``client`` (the pinned, capped request). Each module's docstring states what it
guarantees; ``tests/core/test_outbound_http.py`` proves it.
"""

from app.core.outbound.addresses import IPAddress, blocked_reason, is_blocked
from app.core.outbound.client import (
    KEPT_RESPONSE_HEADERS,
    OutboundRequest,
    OutboundResponse,
    fetch,
)
from app.core.outbound.errors import (
    FailureReason,
    OutboundError,
    OutboundFailed,
    OutboundPolicyError,
    OutboundRefused,
    RefusalReason,
)
from app.core.outbound.policy import OutboundPolicy, normalise_allowed_domain, policy_for
from app.core.outbound.targets import CheckedTarget, Resolver, check_url, system_resolver

__all__ = [
    "KEPT_RESPONSE_HEADERS",
    "CheckedTarget",
    "FailureReason",
    "IPAddress",
    "OutboundError",
    "OutboundFailed",
    "OutboundPolicy",
    "OutboundPolicyError",
    "OutboundRefused",
    "OutboundRequest",
    "OutboundResponse",
    "RefusalReason",
    "Resolver",
    "blocked_reason",
    "check_url",
    "fetch",
    "is_blocked",
    "normalise_allowed_domain",
    "policy_for",
    "system_resolver",
]
