"""Reading infra/cloudflare/ without terraform: HCL through python-hcl2, and a small evaluator
for the part of Cloudflare's Rules language the rules there use.

The evaluator answers "would this request match?" so a test can prove an edge rule covers a
route (a substring check would accept ``/v1/auth/login-history`` for ``/v1/auth/login``).
Supported: ``and``/``or``/``not``, parentheses, ``true``, ``eq``/``ne``, ``wildcard`` (``*``
matches any run of characters, case-insensitive), ``in {"a" "b"}`` and ``starts_with(f, "x")``.
Anything else raises, so a rule written beyond this subset fails loudly rather than passing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[2]
CLOUDFLARE_DIR = ROOT / "infra" / "cloudflare"


def unquote(value: Any) -> Any:
    """python-hcl2 keeps string literals quoted with their escapes: return the string itself."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except json.JSONDecodeError:  # a template whose ${...} holds quotes of its own
            return value[1:-1]
    return value


def plain(value: Any) -> Any:
    """``unquote`` applied through nested dicts and lists."""
    if isinstance(value, dict):
        return {unquote(k): plain(v) for k, v in value.items() if k != "__comments__"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return unquote(value)


@dataclass(frozen=True)
class Terraform:
    blocks: dict[str, list[dict[str, Any]]]

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for block in self.blocks.get("resource", []):
            for resource_type, named in block.items():
                if unquote(resource_type) == kind:
                    found.update({unquote(name): body for name, body in named.items()})
        return found

    def resource(self, kind: str, name: str) -> dict[str, Any]:
        return self.resources(kind)[name]

    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for block in self.blocks.get("locals", []):
            merged.update(block)
        return merged

    def variables(self) -> dict[str, dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for block in self.blocks.get("variable", []):
            merged.update({unquote(k): v for k, v in block.items()})
        return merged


def load(directory: Path = CLOUDFLARE_DIR) -> Terraform:
    blocks: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            parsed = plain(hcl2.load(handle))
        for key, value in parsed.items():
            blocks.setdefault(key, []).extend(value if isinstance(value, list) else [value])
    return Terraform(blocks)


@cache
def loaded() -> Terraform:
    return load()


# --- The Rules language subset --------------------------------------------------------------

TOKEN = re.compile(r'\s*(?:([(){},])|("(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_.]*))')


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    host: str = "api.example.com"

    def field(self, name: str) -> str:
        fields = {
            "http.request.method": self.method,
            "http.request.uri.path": self.path,
            "http.host": self.host,
        }
        if name not in fields:
            raise ValueError(f"field not supported by the test evaluator: {name}")
        return fields[name]


def tokenize(expression: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(expression.rstrip()):
        match = TOKEN.match(expression, position)
        if match is None:
            raise ValueError(f"cannot read the expression at {expression[position:]!r}")
        tokens.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return tokens


def wildcard(pattern: str, value: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, flags=re.IGNORECASE) is not None


class _Parser:
    def __init__(self, expression: str, request: Request) -> None:
        self.tokens = tokenize(expression)
        self.at = 0
        self.request = request

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected!r}, got {token!r}")
        self.at += 1
        return token

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def parse(self) -> bool:
        result = self.disjunction()
        if self.peek() is not None:
            raise ValueError(f"trailing tokens: {self.tokens[self.at :]}")
        return result

    def disjunction(self) -> bool:
        result = self.conjunction()
        while self.peek() == "or":
            self.take()
            right = self.conjunction()
            result = result or right
        return result

    def conjunction(self) -> bool:
        result = self.negation()
        while self.peek() == "and":
            self.take()
            right = self.negation()
            result = result and right
        return result

    def negation(self) -> bool:
        if self.peek() == "not":
            self.take()
            return not self.negation()
        return self.atom()

    def string(self) -> str:
        token = self.take()
        if not token.startswith('"'):
            raise ValueError(f"expected a string, got {token!r}")
        text: str = json.loads(token)
        return text

    def atom(self) -> bool:
        token = self.take()
        if token == "(":
            result = self.disjunction()
            self.take(")")
            return result
        if token == "true":
            return True
        if token == "starts_with":
            self.take("(")
            value = self.request.field(self.take())
            self.take(",")
            prefix = self.string()
            self.take(")")
            return value.startswith(prefix)
        value = self.request.field(token)
        operator = self.take()
        if operator == "in":
            self.take("{")
            options: list[str] = []
            while self.peek() != "}":
                options.append(self.string())
            self.take("}")
            return value in options
        operand = self.string()
        if operator == "eq":
            return value == operand
        if operator == "ne":
            return value != operand
        if operator == "wildcard":
            return wildcard(operand, value)
        raise ValueError(f"operator not supported by the test evaluator: {operator}")


def matches(expression: str, request: Request) -> bool:
    return _Parser(expression, request).parse()
