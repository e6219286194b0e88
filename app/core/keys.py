"""Key material checks shared by settings and tools (no key value ever reaches a message)."""

from __future__ import annotations

from pydantic import SecretStr

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
