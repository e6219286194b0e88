"""The OpenAPI document as the contract: every status a route can answer, in the shape it is sent.

Routes declare their own errors (``responses=responses(401, 404)``); ``apply_contract`` then adds
what every route of a kind can answer whatever its code says, because the layer that answers sits
outside the route: malformed JSON and a bad cursor (400), no or a dead credential (401), CSRF or a
missing scope (403), an id that is not yours (404), body caps (413) and content types (415),
validation (422), the read budget (429) and a lost dependency (503). Every error is
``application/problem+json`` with the ``Problem`` schema (FastAPI's default 422 says
``application/json`` and ``HTTPValidationError``, which is not what is sent). Private operations
name their two security schemes: the session cookie and a bearer API key.

Hand-written post-processing (rather than repeating ``responses=`` on 58 routes): the rules are
structural, so a new route gets them without anyone remembering; tests/edge/test_schemathesis.py
holds the server to the result.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": PROBLEM_REF}}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON (`malformed_json`) or a cursor is not one "
    "this server issued (`invalid_cursor`).",
    401: "No valid credential: missing, expired, revoked or tampered (one body for all).",
    403: "Authenticated, but not allowed: a role or API-key scope is missing, or a cookie "
    "write came without this site's Origin (CSRF).",
    404: "Not found, or not yours: another workspace's id answers exactly like a random one.",
    408: "The request body arrived too slowly.",
    409: "Conflict with the resource's current state.",
    413: "The request body is over its cap (checked while it streams).",
    415: "The request's content type (or a file's sniffed type) is not accepted.",
    422: "The request is well-formed but invalid; `errors` lists where and why.",
    429: "A rate-limit budget is spent; `Retry-After` says when to try again.",
    502: "The model provider answered with an error.",
    503: "A dependency (database, Redis, storage, scanner, model) is unreachable; "
    "`Retry-After` says when to try again.",
}
SECURITY_SCHEMES = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "",  # set from the settings: the cookie name differs in development
        "description": "The session cookie set by `POST /v1/auth/login` (HttpOnly). Cookie "
        "writes must also send this site's `Origin` (CSRF).",
    },
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A workspace API key (`Authorization: Bearer lpk_…`), shown once at "
        "creation. Scoped to one workspace; it never reaches account or admin routes.",
    },
}


class ProblemError(BaseModel):
    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable machine-readable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None
    errors: list[ProblemError] | None = None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Problem, "content": {"application/problem+json": {}}} for code in codes}


def _shared_codes(path: str, method: str, operation: dict[str, Any], private: bool) -> set[int]:
    params = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
    codes = {422, 503}
    if "requestBody" in operation:
        codes |= {413, 415}
        if "application/json" in operation["requestBody"].get("content", {}):
            codes.add(400)
    if "cursor" in params:
        codes.add(400)
    if "{" in path:
        codes.add(404)
    if private:
        codes |= {401, 403}
        if method == "get":
            codes.add(429)  # the general read budget (RATE_LIMIT_READ) covers every private GET
    return codes


def _without_null(parameter: dict[str, Any]) -> None:
    """An optional header or query parameter is absent, never ``null``: FastAPI documents
    ``str | None = None`` as ``anyOf: [string, null]``, which a client would send as "null"."""
    schema = parameter.get("schema", {})
    options = schema.get("anyOf")
    if parameter.get("required") or not isinstance(options, list):
        return
    kept = [option for option in options if option != {"type": "null"}]
    if len(kept) == 1 and len(kept) < len(options):
        rest = {key: value for key, value in schema.items() if key != "anyOf"}
        parameter["schema"] = {**kept[0], **rest}


def apply_contract(
    schema: dict[str, Any], *, public_routes: Collection[tuple[str, str]], cookie_name: str
) -> dict[str, Any]:
    """Add the shared error statuses and security requirements to ``schema`` (in place)."""
    components = schema.setdefault("components", {})
    schemes = {name: dict(value) for name, value in SECURITY_SCHEMES.items()}
    schemes["session"]["name"] = cookie_name
    components["securitySchemes"] = schemes
    for path, item in schema.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            private = (method.upper(), path) not in public_routes
            for parameter in operation.get("parameters", []):
                _without_null(parameter)
            operation["security"] = [{"session": []}, {"apiKey": []}] if private else []
            answers = operation.setdefault("responses", {})
            errors = {int(code) for code in answers if str(code).isdigit() and int(code) >= 400}
            for code in sorted(errors | _shared_codes(path, method, operation, private)):
                existing = answers.get(str(code), {})
                answers[str(code)] = {
                    "description": existing.get("description") or DESCRIPTIONS.get(code, "Error"),
                    **({"headers": existing["headers"]} if "headers" in existing else {}),
                    "content": PROBLEM_CONTENT,
                }
    schemas = components.get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def install_contract(
    app: FastAPI,
    *,
    public_routes: Collection[tuple[str, str]],
    cookie_name: str,
    description: str,
) -> None:
    """Serve ``apply_contract``'s document at ``app.openapi_url`` (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=description, routes=app.routes
            )
            app.openapi_schema = apply_contract(
                schema, public_routes=public_routes, cookie_name=cookie_name
            )
        return app.openapi_schema

    setter: Callable[[], dict[str, Any]] = openapi
    app.openapi = setter  # type: ignore[method-assign]
