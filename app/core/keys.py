"""Key material checks shared by settings and tools (no key value ever reaches a message)."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr, model_validator

from app.core.webhook_config import split_list

MIN_DKIM_BITS = 2048


def rsa_private_key_problem(pem: str, min_bits: int) -> str | None:
    """Why ``pem`` is not an unencrypted RSA private key of ``min_bits`` or more; None if it is."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        return "is not an unencrypted PEM private key"
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < min_bits:
        return f"must be RSA of at least {min_bits} bits"
    return None


def strong_dkim_key(value: SecretStr | None) -> SecretStr | None:
    """Settings validator for DKIM_PRIVATE_KEY; the error never repeats the key."""
    if value is not None:
        problem = rsa_private_key_problem(value.get_secret_value(), MIN_DKIM_BITS)
        if problem is not None:
            raise ValueError(f"DKIM_PRIVATE_KEY {problem}")
    return value


# --- The SECRET_KEY ring ---------------------------------------------------------------------
# SECRET_KEY hashes every credential issued from now on; SECRET_KEY_PREVIOUS lists the keys it
# replaced, which still verify. A credential presented under a previous key costs one more
# indexed lookup per key, so the ring is small: the current key and at most two previous ones
# (docs/secrets.md, "SECRET_KEY").
MAX_PREVIOUS_SECRET_KEYS = 2


class KeyRingSettings(BaseModel):
    """``SECRET_KEY`` (current) and ``SECRET_KEY_PREVIOUS`` (comma list), mixed into Settings;
    both also read ``NAME_FILE`` (Settings._read_secret_files)."""

    secret_key: SecretStr | None = None
    secret_key_previous: SecretStr | None = None

    @model_validator(mode="after")
    def _bounded_key_ring(self) -> KeyRingSettings:
        # Every environment: each previous key costs one more lookup per unknown credential.
        if len(self.previous_secret_keys()) > MAX_PREVIOUS_SECRET_KEYS:
            raise ValueError(f"SECRET_KEY_PREVIOUS holds at most {MAX_PREVIOUS_SECRET_KEYS} keys")
        return self

    def require_secret_key(self) -> bytes:
        """The current key: it hashes every credential issued from now on."""
        if self.secret_key is None:
            raise RuntimeError("SECRET_KEY is not set")
        return self.secret_key.get_secret_value().encode()

    def previous_secret_keys(self) -> list[str]:
        raw = self.secret_key_previous
        return [] if raw is None else split_list(raw.get_secret_value())

    def secret_key_ring(self) -> tuple[bytes, ...]:
        """Current key first, then the previous ones: each verifies, only the first issues."""
        return (
            self.require_secret_key(),
            *(key.encode() for key in self.previous_secret_keys()),
        )


def secret_key_ring_problems(
    current: str, previous: list[str], *, min_length: int, placeholders: tuple[str, ...]
) -> list[str]:
    """What production refuses in the previous keys (the current key is checked with the other
    secrets). Messages name positions, never values."""
    problems: list[str] = []
    for position, key in enumerate(previous, start=1):
        name = f"SECRET_KEY_PREVIOUS entry {position}"
        if len(key) < min_length:
            problems.append(f"{name} is shorter than {min_length} characters")
        if any(marker in key.lower() for marker in placeholders):
            problems.append(f"{name} looks like a placeholder")
    if current in previous:
        problems.append("SECRET_KEY_PREVIOUS repeats SECRET_KEY")
    if len(set(previous)) != len(previous):
        problems.append("SECRET_KEY_PREVIOUS lists a key twice")
    return problems
