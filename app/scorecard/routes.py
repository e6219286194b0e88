"""The route inventory the checks walk: method, path template, path parameters, public or private.

Two sources, one shape:
  * the bundled ``data/routes.json``, generated from this application's own route table
    (``python -m tests.scorecard.routes_data``; a drift test keeps it equal to the code), so a
    deployment is judged against the contract this release publishes;
  * ``--openapi FILE``, a fork's or another release's OpenAPI document. There an operation is
    *private* when it carries a security requirement (its own ``security``, else the document's
    top-level one; ``security: []`` clears it) **or** when its (method, path) is not one of the
    bundled public routes. A document that forgets to declare security therefore makes no route
    public that this release does not publish as public: the checks err towards asking more.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Param:
    name: str
    format: str  # "uuid" or "string"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # a template: /v1/bots/{bot_id}
    params: tuple[Param, ...]
    public: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(param.name for param in self.params)

    def random_ids(self) -> dict[str, str]:
        """A fresh, well-formed value for every path parameter (one that names nothing)."""
        return {
            param.name: str(uuid.uuid4()) if param.format == "uuid" else "x" + secrets.token_hex(8)
            for param in self.params
        }

    def url(self, ids: dict[str, str]) -> str:
        return self.path.format(**ids)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "params": [{"name": p.name, "format": p.format} for p in self.params],
            "public": self.public,
        }


def _from_json(item: dict[str, Any]) -> Route:
    return Route(
        method=str(item["method"]),
        path=str(item["path"]),
        params=tuple(Param(str(p["name"]), str(p["format"])) for p in item["params"]),
        public=bool(item["public"]),
    )


def bundled_routes() -> list[Route]:
    """The inventory shipped with this release (package data, also inside the wheel)."""
    text = resources.files("app.scorecard").joinpath("data/routes.json").read_text("utf-8")
    document = json.loads(text)
    return [_from_json(item) for item in document["routes"]]


def _path_params(path_item: dict[str, Any], operation: dict[str, Any]) -> tuple[Param, ...]:
    declared: dict[str, str] = {}
    for parameter in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        if isinstance(parameter, dict) and parameter.get("in") == "path":
            schema = parameter.get("schema") or {}
            declared[str(parameter["name"])] = (
                "uuid" if schema.get("format") == "uuid" else "string"
            )
    return tuple(Param(name, fmt) for name, fmt in declared.items())


def openapi_routes(path: Path) -> list[Route]:
    """Routes from an OpenAPI 3 document (JSON); see the module docstring for public/private."""
    document = json.loads(path.read_text(encoding="utf-8"))
    public = {(route.method, route.path) for route in bundled_routes() if route.public}
    default_security = document.get("security") or []
    routes: list[Route] = []
    for template, path_item in sorted((document.get("paths") or {}).items()):
        for method in HTTP_METHODS:
            operation = path_item.get(method.lower())
            if not isinstance(operation, dict):
                continue
            security = operation.get("security", default_security)
            private = bool(security) or (method, template) not in public
            params = _path_params(path_item, operation)
            routes.append(Route(method, template, params, public=not private))
    return routes


def inventory(openapi_path: Path | None) -> list[Route]:
    return openapi_routes(openapi_path) if openapi_path is not None else bundled_routes()


def private_routes(openapi_path: Path | None) -> list[Route]:
    return [route for route in inventory(openapi_path) if not route.public]
