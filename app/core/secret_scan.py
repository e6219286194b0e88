"""Find credentials in text that must never hold one (system prompts, tool descriptions, logs).

Uses detect-secrets' pattern plugins (AWS, GitHub, Slack, Stripe, private keys, JWTs, …) without
its entropy heuristics, which flag ordinary prose, plus the formats this product itself issues
or handles (``lpk_`` API keys, ``whsec_`` webhook secrets, OpenAI ``sk-`` keys).
"""

from __future__ import annotations

import re
from functools import lru_cache

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.core.scan import scan_line
from detect_secrets.settings import transient_settings

_NOISY = frozenset({"Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"})
_OWN_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Launchproof API key", re.compile(r"\blpk_[A-Za-z0-9_-]{20,}")),
    ("Webhook signing secret", re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]{16,}")),
    ("OpenAI API key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("Bearer credential", re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]{20,}", re.IGNORECASE)),
)


@lru_cache(maxsize=1)
def _plugins() -> list[dict[str, str]]:
    classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    names = sorted(cls.__name__ for cls in classes)
    return [{"name": name} for name in names if name not in _NOISY]


def find_secret_types(text: str) -> list[str]:
    """The kinds of credential found in ``text`` (empty when none). Never returns the value."""
    found = [label for label, pattern in _OWN_FORMATS if pattern.search(text)]
    with transient_settings({"plugins_used": _plugins()}):
        for line in text.splitlines() or [text]:
            found.extend(secret.type for secret in scan_line(line))
    return sorted(set(found))
