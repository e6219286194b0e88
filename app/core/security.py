"""Opaque tokens and keyed hashes.

Session tokens, API keys, e-mail/reset/invitation tokens are 32 random bytes (256 bits), shown to
their holder once and stored only as ``HMAC-SHA256(SECRET_KEY, purpose, token)``. A database leak
therefore yields nothing that authenticates, and the purpose label keeps a hash of one kind from
being replayed as another. Hand-written because it is four lines over the standard library.

``SECRET_KEY`` is a ring (``Settings.secret_key_ring``): the first key hashes what is issued,
every key is tried when a credential is presented, so a rotation signs nobody out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(secret_key: bytes, purpose: str, token: str) -> bytes:
    return hmac.new(
        secret_key, purpose.encode() + b"\x00" + token.encode(), hashlib.sha256
    ).digest()


def token_hashes(ring: Sequence[bytes], purpose: str, token: str) -> list[bytes]:
    """The token's hash under each key of the ring, the current key's first."""
    return [token_hash(key, purpose, token) for key in ring]
