"""The WebAuthn checks, through ``fido2`` (``Fido2Server``): no I/O, no database.

The relying party is ``PUBLIC_URL``: its host name is the RP id and its scheme://host[:port] the
only accepted origin (an exact comparison; no subdomain, no other port). Attestation is ``none``
(docs/decisions/0021): the server does not ask which authenticator model made the key, and
ignores any attestation statement it is sent. User verification is always required.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from fido2 import cbor
from fido2.cose import CoseKey
from fido2.server import Fido2Server
from fido2.utils import websafe_encode
from fido2.webauthn import (
    Aaguid,
    AttestationConveyancePreference,
    AttestedCredentialData,
    AuthenticationResponse,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.auth.passkeys.errors import PasskeyMalformed, PasskeyRejected
from app.core.config import Settings

RP_NAME = "Launchproof"
TIMEOUT_MS = 120_000
UV = UserVerificationRequirement.REQUIRED


@dataclass(frozen=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes  # the COSE key, CBOR-encoded
    sign_count: int
    aaguid: uuid.UUID


@dataclass(frozen=True)
class Assertion:
    credential_id: bytes
    user_handle: bytes | None
    parsed: AuthenticationResponse


@dataclass(frozen=True)
class StoredKey:
    credential_id: bytes
    public_key: bytes
    aaguid: uuid.UUID


def relying_party(settings: Settings) -> tuple[str, str]:
    """(RP id, origin) from ``PUBLIC_URL``."""
    url = urlsplit(settings.public_url)
    host = (url.hostname or "").lower()
    return host, f"{url.scheme}://{url.netloc}".lower().rstrip("/")


def _server(settings: Settings) -> Fido2Server:
    rp_id, origin = relying_party(settings)
    return Fido2Server(
        PublicKeyCredentialRpEntity(name=RP_NAME, id=rp_id),
        attestation=AttestationConveyancePreference.NONE,
        verify_origin=lambda presented: presented == origin,
    )


def _state(challenge: bytes) -> dict[str, Any]:
    return {"challenge": websafe_encode(challenge), "user_verification": UV}


def _descriptors(ids: Sequence[bytes]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=i) for i in ids
    ]


def creation_options(
    settings: Settings,
    *,
    challenge: bytes,
    user_handle: bytes,
    email: str,
    display_name: str | None,
    existing: Sequence[bytes],
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptionsJSON``: a discoverable credential, user verification
    required, the account's passkeys excluded (one per authenticator)."""
    options, _ = _server(settings).register_begin(
        PublicKeyCredentialUserEntity(
            name=email, id=user_handle, display_name=display_name or email
        ),
        credentials=_descriptors(existing),
        resident_key_requirement=ResidentKeyRequirement.REQUIRED,
        user_verification=UV,
        challenge=challenge,
    )
    public_key = dict(options)["publicKey"]
    public_key["timeout"] = TIMEOUT_MS
    return dict(public_key)


def request_options(
    settings: Settings, *, challenge: bytes, allowed: Sequence[bytes] | None
) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptionsJSON``; ``allowed=None`` for a discoverable sign-in
    (the authenticator offers its passkeys for this RP id)."""
    options, _ = _server(settings).authenticate_begin(
        _descriptors(allowed) if allowed is not None else None,
        user_verification=UV,
        challenge=challenge,
    )
    public_key = dict(options)["publicKey"]
    public_key["timeout"] = TIMEOUT_MS
    return dict(public_key)


def _malformed(exc: Exception) -> PasskeyMalformed:
    return PasskeyMalformed(f"The passkey response could not be read ({type(exc).__name__}).")


def parse_assertion(response: Mapping[str, Any]) -> Assertion:
    """Decode an ``AuthenticationResponseJSON``; 400 ``passkey_malformed`` if it is not one."""
    try:
        parsed = AuthenticationResponse.from_dict(response)
        return Assertion(parsed.raw_id, parsed.response.user_handle, parsed)
    # Attacker-controlled base64url, CBOR and JSON through a third-party parser: whatever it
    # raises is a malformed request, never a 500.
    except Exception as exc:
        raise _malformed(exc) from None


def verify_registration(
    settings: Settings, challenge: bytes, response: Mapping[str, Any]
) -> NewCredential:
    try:
        parsed = RegistrationResponse.from_dict(response)
    except Exception as exc:
        raise _malformed(exc) from None
    try:
        auth_data = _server(settings).register_complete(_state(challenge), parsed)
    except ValueError as exc:
        raise PasskeyRejected(f"The passkey was not accepted: {exc}") from None
    credential = auth_data.credential_data
    if credential is None:
        raise PasskeyRejected("The response carries no credential.")
    return NewCredential(
        credential_id=bytes(credential.credential_id),
        public_key=cbor.encode(dict(credential.public_key)),
        sign_count=auth_data.counter,
        aaguid=uuid.UUID(bytes=bytes(credential.aaguid)),
    )


def verify_assertion(
    settings: Settings, challenge: bytes, assertion: Assertion, key: StoredKey
) -> int:
    """Check origin, RP id hash, challenge, user presence and verification and the signature
    against ``key``; the authenticator's new signature counter."""
    stored = AttestedCredentialData.create(
        Aaguid(key.aaguid.bytes),
        key.credential_id,
        CoseKey.parse(cast(Mapping[int, Any], cbor.decode(key.public_key))),
    )
    try:
        _server(settings).authenticate_complete(_state(challenge), [stored], assertion.parsed)
    except ValueError as exc:
        raise PasskeyRejected(f"The passkey was not accepted: {exc}") from None
    return int(assertion.parsed.response.authenticator_data.counter)
