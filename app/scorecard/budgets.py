"""The rate-limit budgets a deployment documents: the bundled defaults, the operator's overrides.

``data/budgets.json`` is generated from this release's settings (``python -m
tests.scorecard.budgets_data``; a drift test keeps it equal to ``app/core/config.py``), so a
deployment is held to the numbers docs/rate-limits.md publishes unless ``--budget NAME=LIMIT``
says it documents others. The ``limits`` notation ("5/minute", "5/minute;30/hour",
"3 per 10 seconds") is parsed here by hand: the checker imports no project or limiter code,
and the grammar is one regular expression.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

_UNITS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "month": 2_592_000,
    "year": 31_536_000,
}
_WINDOW = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day|month|year)s?\s*$")


@dataclass(frozen=True)
class Window:
    count: int
    seconds: int


@dataclass(frozen=True)
class Limit:
    """One named budget: ``name`` is the setting without its prefix (``login_ip``)."""

    name: str
    notation: str
    windows: tuple[Window, ...]

    @property
    def allowed(self) -> int:
        """Requests one key may send before the first window refuses."""
        return min(window.count for window in self.windows)

    @property
    def longest_seconds(self) -> int:
        return max(window.seconds for window in self.windows)

    def margin(self) -> int:
        """Extra requests tolerated past the budget (several edges or workers, clock skew)."""
        return max(2, math.ceil(self.allowed / 10))


def parse(name: str, notation: str) -> Limit:
    """``5/minute;30/hour`` -> Limit; ``ValueError`` on anything else."""
    windows = []
    for part in filter(None, (p.strip() for p in re.split(r"[;,]", notation))):
        match = _WINDOW.match(part.lower())
        if match is None:
            raise ValueError(f"budget {name}: {notation!r} is not in the limits notation")
        count, multiple, unit = match.groups()
        windows.append(Window(int(count), int(multiple or 1) * _UNITS[unit]))
    if not windows:
        raise ValueError(f"budget {name}: empty")
    return Limit(name, notation, tuple(windows))


def canonical(name: str) -> str:
    """``RATE_LIMIT_LOGIN_IP``, ``login.ip`` and ``login_ip`` all name ``login_ip``."""
    key = name.strip().lower().replace(".", "_").replace("-", "_")
    key = key.removeprefix("rate_limit_")
    aliases = {entry["budget"].replace(".", "_"): entry["name"] for entry in bundled()}
    return aliases.get(key, key)


def _data() -> dict[str, Any]:
    text = resources.files("app.scorecard").joinpath("data/budgets.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def bundled() -> list[dict[str, str]]:
    """The release's budgets: name, setting, budget (``Budget`` value), default."""
    entries: list[dict[str, str]] = _data()["budgets"]
    return entries


def documented_size(overrides: dict[str, str], name: str) -> int:
    """A documented body cap in bytes (``--budget max_upload_body_bytes=1048576`` overrides)."""
    given = {canonical(key): value for key, value in overrides.items()}
    if name in given:
        return int(given[name])
    sizes = {entry["name"]: int(entry["default"]) for entry in _data()["sizes"]}
    return sizes[name]


def documented(overrides: dict[str, str]) -> dict[str, Limit]:
    """The bundled defaults with the operator's ``--budget`` overrides; unknown names refused."""
    notations = {entry["name"]: entry["default"] for entry in bundled()}
    sizes = {entry["name"] for entry in _data()["sizes"]}
    for raw, notation in overrides.items():
        name = canonical(raw)
        if name in sizes:
            if not notation.isdigit():
                raise ValueError(f"--budget {raw}: a size in bytes, got {notation!r}")
            continue
        if name not in notations:
            raise ValueError(f"--budget {raw}: unknown budget (known: {', '.join(notations)})")
        notations[name] = notation
    return {name: parse(name, notation) for name, notation in notations.items()}
