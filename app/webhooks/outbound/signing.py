"""Standard Webhooks signing with the official ``standardwebhooks`` library.

``webhook-signature`` carries one ``v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`` per
active secret, space-separated: during a rotation's overlap window both the new and the previous
secret sign, so receivers that still hold the old secret keep verifying.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook


def message_id(delivery_id: object) -> str:
    """The ``webhook-id``: stable across retries so receivers can deduplicate."""
    return f"msg_{getattr(delivery_id, 'hex', delivery_id)}"


def signature_headers(
    secrets: Sequence[str], *, msg_id: str, timestamp: datetime, body: str
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (signed at ``timestamp``)."""
    if not secrets:
        raise ValueError("at least one signing secret is required")
    signatures = [Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
