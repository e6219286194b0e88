"""Passkeys over HTTP without a browser: a software authenticator (ES256, ``none``
attestation) that answers the server's options the way a WebAuthn client and authenticator do.

It builds ``clientDataJSON`` for a given origin and signs ``authenticatorData`` for a given RP
id, so a test can also play a phishing page (another origin or RP id) or a cloned authenticator
(an old counter). The real-browser tests (tests/browser/test_passkeys.py) drive Chromium's
virtual authenticator instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor

from tests.support import Actor, Anonymous, Server, session_cookie

PASSKEYS = "/v1/me/second-factors/passkeys"
PASSKEY_OPTIONS = "/v1/me/second-factors/passkey-options"
PASSKEY_COOKIE = "__Host-lp_passkey"
UP, UV, AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftKey:
    """One credential: its id, private key, RP id, user handle and signature counter."""

    rp_id: str
    user_handle: bytes
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    sign_count: int = 0

    def cose(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor.encode(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


def _flags(uv: bool) -> int:
    return UP | (UV if uv else 0)


def register_response(
    options: dict[str, Any], origin: str, *, rp_id: str | None = None, uv: bool = True
) -> tuple[SoftKey, dict[str, Any]]:
    """A ``RegistrationResponseJSON`` for ``options`` (``publicKey`` of the options route)."""
    key = SoftKey(rp_id=rp_id or options["rp"]["id"], user_handle=unb64(options["user"]["id"]))
    client_data = _client_data("webauthn.create", options["challenge"], origin)
    attested = bytes(16) + struct.pack(">H", len(key.credential_id)) + key.credential_id
    auth_data = (
        hashlib.sha256(key.rp_id.encode()).digest()
        + bytes([_flags(uv) | AT])
        + struct.pack(">I", key.sign_count)
        + attested
        + key.cose()
    )
    attestation = cbor.encode({"fmt": "none", "attStmt": {}, "authData": auth_data})
    return key, {
        "id": b64(key.credential_id),
        "rawId": b64(key.credential_id),
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": {
            "clientDataJSON": b64(client_data),
            "attestationObject": b64(attestation),
            "transports": ["internal"],
        },
    }


def assertion_response(
    key: SoftKey,
    options: dict[str, Any],
    origin: str,
    *,
    rp_id: str | None = None,
    uv: bool = True,
    count: int | None = None,
) -> dict[str, Any]:
    """An ``AuthenticationResponseJSON`` for ``options``; the counter moves on by one unless
    ``count`` pins it (a clone replaying an old state)."""
    key.sign_count = key.sign_count + 1 if count is None else count
    client_data = _client_data("webauthn.get", options["challenge"], origin)
    auth_data = (
        hashlib.sha256((rp_id or key.rp_id).encode()).digest()
        + bytes([_flags(uv)])
        + struct.pack(">I", key.sign_count)
    )
    signed = auth_data + hashlib.sha256(client_data).digest()
    signature = key.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
    return {
        "id": b64(key.credential_id),
        "rawId": b64(key.credential_id),
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": {
            "clientDataJSON": b64(client_data),
            "authenticatorData": b64(auth_data),
            "signature": b64(signature),
            "userHandle": b64(key.user_handle),
        },
    }


def register_passkey(actor: Actor, name: str = "Laptop") -> tuple[SoftKey, dict[str, Any]]:
    """Register a soft passkey for ``actor`` (who must be fresh if they have a factor)."""
    options = actor.post(PASSKEY_OPTIONS)
    assert options.status_code == 200, options.text
    key, response = register_response(options.json()["publicKey"], actor.server.origin)
    created = actor.post(PASSKEYS, json={"name": name, "passkey": response})
    assert created.status_code == 201, created.text
    return key, created.json()


def rp_id_of(server: Server) -> str:
    return urlsplit(server.origin).hostname or ""


def passkey_login(
    server: Server, key: SoftKey, user_agent: str = "test-browser", **tamper: Any
) -> httpx.Response:
    """Sign in with ``key`` alone: options (the ceremony cookie), then the assertion."""
    anon = Anonymous(server)
    started = anon.post("/v1/auth/login/passkey/options", headers={"User-Agent": user_agent})
    assert started.status_code == 200, started.text
    cookie = session_cookie(started, PASSKEY_COOKIE)
    origin = tamper.pop("origin", server.origin)
    answer = assertion_response(key, started.json()["publicKey"], origin, **tamper)
    return anon.post(
        "/v1/auth/login/passkey",
        json={"passkey": answer},
        headers={"User-Agent": user_agent, "Cookie": f"{PASSKEY_COOKIE}={cookie}"},
    )


def step_up_with_passkey(actor: Actor, key: SoftKey) -> httpx.Response:
    options = actor.post("/v1/auth/step-up/passkey-options")
    assert options.status_code == 200, options.text
    answer = assertion_response(key, options.json()["publicKey"], actor.server.origin)
    return actor.post("/v1/auth/step-up", json={"passkey": answer})
