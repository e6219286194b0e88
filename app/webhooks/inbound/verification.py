"""Standard Webhooks verification of an inbound request, over the raw bytes, before anything else.

Order: the source must be configured (404 otherwise: an empty or missing secret would verify
against an empty key, which anyone can forge), the per-source+IP budget is charged, the headers
are parsed strictly (400 for anything missing or malformed, never a 500), the timestamp must be
within five minutes either way (401), and one of the ``v1`` signatures must match the HMAC the
official ``standardwebhooks`` library computes for ``id.timestamp.body`` (401). Only then is
the body parsed as JSON (400 if it is not a JSON object) and the database touched.

Hand-parsed headers rather than ``Webhook.verify``: the library raises ``ValueError`` or
``binascii.Error`` on malformed input (a 500 in a naive handler), accepts fractional or
exponent timestamps and decodes the body leniently; the HMAC itself is the library's.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from standardwebhooks.webhooks import Webhook

from app.core.errors import BadRequest, NotFound, Unauthorized
from app.core.json_limits import MAX_DEPTH, JSONRefused, loads_bounded
from app.core.metrics import SIGNATURE_REJECTIONS
from app.core.rate_limit import limit_webhook
from app.identity.dependencies import SettingsDep

TOLERANCE_SECONDS = 5 * 60
MAX_SIGNATURES = 8
_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,256}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v[0-9]{1,3},[A-Za-z0-9+/]{1,200}={0,2}")


@dataclass(frozen=True, slots=True)
class VerifiedEvent:
    """An inbound event whose signature matched: safe to store (not yet to trust blindly)."""

    source: str
    webhook_id: str
    timestamp: int
    event_type: str
    body: str
    payload: dict[str, object]


class InvalidSignatureHeaders(BadRequest):
    code = "invalid_webhook_headers"


class InvalidSignature(Unauthorized):
    code = "invalid_webhook_signature"
    title = "Invalid webhook signature"
    headers = {}


def _reject(source: str, reason: str, error: Exception) -> Exception:
    SIGNATURE_REJECTIONS.labels(source=source, reason=reason).inc()
    return error


def _parse_headers(source: str, request: Request) -> tuple[str, int, list[bytes]]:
    msg_id = request.headers.get("webhook-id", "")
    timestamp = request.headers.get("webhook-timestamp", "")
    signature = request.headers.get("webhook-signature", "")
    if not (msg_id and timestamp and signature):
        raise _reject(
            source, "missing_headers", InvalidSignatureHeaders("Missing webhook headers.")
        )
    if not _ID.fullmatch(msg_id) or not _TIMESTAMP.fullmatch(timestamp):
        raise _reject(source, "malformed_headers", InvalidSignatureHeaders("Malformed headers."))
    entries = signature.split(" ")
    if len(entries) > MAX_SIGNATURES or not all(_SIGNATURE.fullmatch(e) for e in entries):
        raise _reject(source, "malformed_headers", InvalidSignatureHeaders("Malformed signature."))
    signatures: list[bytes] = []
    for entry in entries:
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue  # other schemes (v1a: asymmetric) are not configured here
        try:
            signatures.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            raise _reject(
                source, "malformed_headers", InvalidSignatureHeaders("Malformed signature.")
            ) from None
    if not signatures:
        raise _reject(source, "malformed_headers", InvalidSignatureHeaders("No v1 signature."))
    return msg_id, int(timestamp), signatures


def verify(source: str, secrets: list[str], request: Request, raw: bytes) -> VerifiedEvent:
    """Verify ``raw`` as sent by ``source`` (any of its ``secrets``); raises 400/401 problems."""
    msg_id, timestamp, signatures = _parse_headers(source, request)
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        raise _reject(
            source,
            "timestamp_out_of_tolerance",
            InvalidSignature("The webhook timestamp is too old or in the future."),
        )
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _reject(
            source, "invalid_body", InvalidSignatureHeaders("Body is not UTF-8.")
        ) from None
    signed_at = datetime.fromtimestamp(timestamp, tz=UTC)
    # Compare every candidate with every secret (no early exit): timing says nothing about which.
    matched = False
    for secret in secrets:
        signed = Webhook(secret).sign(msg_id, signed_at, body)
        expected = base64.b64decode(signed.partition(",")[2])
        for candidate in signatures:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise _reject(
            source, "bad_signature", InvalidSignature("The webhook signature is invalid.")
        )
    try:
        payload = loads_bounded(body)
    except JSONRefused:
        raise _reject(
            source,
            "invalid_body",
            BadRequest(
                f"The body is not JSON, or nests deeper than {MAX_DEPTH} levels.",
                code="invalid_json",
            ),
        ) from None
    if not isinstance(payload, dict):
        raise _reject(source, "invalid_body", BadRequest("The body is not a JSON object."))
    event_type = payload.get("type")
    return VerifiedEvent(
        source=source,
        webhook_id=msg_id,
        timestamp=timestamp,
        event_type=event_type[:128] if isinstance(event_type, str) else "",
        body=body,
        payload=payload,
    )


async def verified_event(
    request: Request,
    settings: SettingsDep,
    source: str,
) -> VerifiedEvent:
    """The route dependency: configured source, rate budget, then ``verify`` on the raw body."""
    # Any unknown name (however long or odd) is a plain 404, like an unknown route.
    secret = settings.webhook_inbound_secret_map().get(source)
    if secret is None:
        SIGNATURE_REJECTIONS.labels(source="unknown", reason="unknown_source").inc()
        raise NotFound()
    await limit_webhook(request, source)
    raw = await request.body()
    return verify(source, secret.get_secret_value().split(" "), request, raw)


VerifiedEventDep = Annotated[VerifiedEvent, Depends(verified_event)]
