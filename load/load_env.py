"""The load stack's deliberate setting differences from production (docs/performance.md).

Everything else is ``load.stack``'s production-like configuration. Each difference exists so the
run measures the endpoints rather than the legitimate users' own rate limits:

- ``TRUSTED_PROXY_CIDRS``: the load generator plays a trusted local proxy, so every simulated
  creator has its own client address (``X-Forwarded-For``) and the attacker has one too; the
  per-IP budgets then apply to each, as behind Cloudflare.
- Read, chat-send, upload and webhook budgets, and the per-account login budget, are raised:
  a handful of seeded users make thousands of requests a minute, far above a real person's.
- The per-IP login budget keeps its default: the attacker's failed logins are throttled by it
  (its 429 share is printed), the simulated creators log in from many addresses.
- Redis is the real one (``REDIS_URL``, default 127.0.0.1:6379/0) under a per-run key prefix.
- ``WEBHOOK_INBOUND_SECRETS`` names one source, ``load``, with a secret made for this run (the
  Locust ``WebhookSource`` class signs with it).
"""

from __future__ import annotations

import base64
import os
import secrets

UNTHROTTLED = "1000000/minute"
ATTACKER_IP = "203.0.113.66"  # TEST-NET-3: the failed-login flood's one address
WEBHOOK_SOURCE = "load"
# One per process: the stack's server and the Locust run started by the same process share it.
WEBHOOK_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def load_server_env() -> dict[str, str]:
    return {
        "TRUSTED_PROXY_CIDRS": "127.0.0.1/32",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RATE_LIMIT_KEY_PREFIX": f"lpload{secrets.token_hex(4)}",
        "RATE_LIMIT_READ": UNTHROTTLED,
        "RATE_LIMIT_CHAT_SEND": UNTHROTTLED,
        "RATE_LIMIT_LOGIN_ACCOUNT": UNTHROTTLED,
        "RATE_LIMIT_UPLOAD": UNTHROTTLED,
        "RATE_LIMIT_WEBHOOK": UNTHROTTLED,
        "WEBHOOK_INBOUND_SECRETS": f"{WEBHOOK_SOURCE}={WEBHOOK_SECRET}",
    }
