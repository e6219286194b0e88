"""Problem codes of the passkey flows (docs/mfa.md lists them for clients)."""

from app.core.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized


class PasskeyMalformed(BadRequest):
    """The credential JSON parsed as the schema says but is not a WebAuthn response (bad
    base64url, CBOR, client data, ``id`` not matching ``rawId``)."""

    code = "passkey_malformed"
    title = "The passkey response could not be read"


class PasskeyRejected(Forbidden):
    """A well-formed response that does not verify: another origin or RP id, no user
    verification, wrong signature, unknown or foreign credential, counter regression."""

    code = "passkey_rejected"
    title = "The passkey was not accepted"


class PasskeyCeremonyInvalid(Unauthorized):
    code = "passkey_ceremony_invalid"
    title = "Start again: this passkey prompt is over (expired, used, or never started here)"


class PasskeyNotFound(NotFound):
    code = "passkey_not_found"
    title = "No such passkey"


class PasskeyExists(Conflict):
    code = "passkey_exists"
    title = "This passkey is already registered"
