"""A tiny in-memory imitation of the public contract, with faults to switch on one at a time.

With no fault it answers the access checks (authentication, authorization, cors,
input_validation, secrets) the way Launchproof does, so every such check PASSes against it; each
fault in ``FAULTS`` breaks exactly one property, so a check that stays green against it could
never fail. It speaks only the routes of the bundled inventory (``app/scorecard/data``); H6's
vulnerable app (tests/scorecard/vulnerable/) is the full-size version of the same idea.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from app.scorecard.routes import Route, bundled_routes
from tests.support import free_port

FAULTS = (
    "cors_reflect",  # any Origin granted, with credentials
    "cors_wildcard",  # Access-Control-Allow-Origin: * with credentials
    "open_route",  # GET /v1/tools answers without a credential
    "telling_401",  # a bad cookie gets its own 401 ("session expired")
    "revoked_key_works",
    "logout_noop",
    "idor",  # ownership never checked
    "idor_body",  # a message's file_ids are taken on trust
    "sequential_ids",
    "weak_cookie",  # no __Host-, HttpOnly or SameSite
    "token_in_body",  # login returns the session token
    "no_csrf",
    "deep_json_500",
    "echo",  # validation errors repeat the input
    "secret_in_error",  # a stack trace and a provider key in the 404
    "openapi_secret",
    "key_in_list",
)
COOKIE = "__Host-lp_session"
MAX_BODY = 1_048_576
MAX_DEPTH = 64
PROBLEM = "application/problem+json"
FAKE_PROVIDER_KEY = "sk-" + "Zx9" * 12  # pragma: allowlist secret


def problem(status: int, code: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": code, "status": status, "detail": code, "code": code}
    body["request_id"] = uuid.uuid4().hex
    return JSONResponse({**body, **extra}, status_code=status, media_type=PROBLEM)


@dataclass
class Store:
    faults: frozenset[str]
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # email -> (password, id)
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> (user, id)
    keys: dict[str, str] = field(default_factory=dict)  # secret -> key id
    objects: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # id -> kind, owner, ws
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1000))

    def new_id(self) -> str:
        if "sequential_ids" in self.faults:
            return str(next(self.counter))
        return str(uuid.uuid4())


def _match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path)
        found = re.fullmatch(pattern, path)
        if found and route.method == method:
            return route, found.groupdict()
    return None


class WrongApp:
    def __init__(self, faults: frozenset[str], origin: str) -> None:
        self.store = Store(faults)
        self.faults = faults
        self.origin = origin
        self.routes = bundled_routes()

    # --- the plumbing every answer goes through -------------------------------------------

    async def handle(self, request: Request) -> Response:
        response = await self.answer(request)
        origin = request.headers.get("origin")
        if "cors_wildcard" in self.faults:
            response.headers["access-control-allow-origin"] = "*"
            response.headers["access-control-allow-credentials"] = "true"
        elif origin and (origin == self.origin or "cors_reflect" in self.faults):
            response.headers["access-control-allow-origin"] = origin
            response.headers["access-control-allow-credentials"] = "true"
        return response

    def principal(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        if authorization:
            scheme, _, secret = authorization.partition(" ")
            return self.store.keys.get(secret) if scheme.lower() == "bearer" else None
        session = self.store.sessions.get(request.cookies.get(COOKIE, ""))
        return session[0] if session else None

    def refuse(self, request: Request) -> Response:
        if "telling_401" in self.faults and request.cookies.get(COOKIE):
            return problem(401, "session_expired")
        return problem(401, "unauthenticated")

    async def body(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return None, problem(413, "payload_too_large")
        if raw and request.headers.get("content-type", "").split(";")[0] != "application/json":
            return None, problem(415, "json_required")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, problem(400, "malformed_json")
        if "deep_json_500" not in self.faults and text.count("[") + text.count("{") > MAX_DEPTH:
            return None, problem(400, "malformed_json")
        try:
            parsed = json.loads(text or "{}")
        except ValueError:
            return None, problem(400, "malformed_json")
        except RecursionError:  # the fault: what an unguarded parser's crash looks like
            return None, Response("Internal Server Error", status_code=500)
        if not isinstance(parsed, dict):
            return None, problem(422, "validation_failed")
        return parsed, None

    def invalid(self, body: dict[str, Any], fields: tuple[str, ...]) -> Response | None:
        ok = set(body) == set(fields) and all(
            isinstance(body[name], str) and "\x00" not in body[name] for name in fields
        )
        if ok:
            return None
        echo = {"input": body} if "echo" in self.faults else {}
        return problem(422, "validation_failed", **echo)

    # --- the contract ------------------------------------------------------------------------

    async def answer(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        if method == "OPTIONS":
            return Response(status_code=200 if request.headers.get("origin") else 400)
        if path == "/openapi.json":
            if "openapi_secret" in self.faults:
                return JSONResponse({"openapi": "3.1.0", "example": FAKE_PROVIDER_KEY})
            return problem(404, "not_found")
        if path == "/v1/auth/login" and method == "POST":
            return await self.login(request)
        matched = _match(self.routes, method, path)
        if matched is None:
            if any(_match(self.routes, other, path) for other in ("GET", "POST", "DELETE")):
                return problem(405, "method_not_allowed")
            if "secret_in_error" in self.faults:
                trace = 'Traceback (most recent call last):\n  File "app.py", line 3\n'
                trace += f"KeyError: {FAKE_PROVIDER_KEY}"
                return problem(404, "not_found", trace=trace)
            return problem(404, "not_found")
        route, ids = matched
        if route.public:
            return JSONResponse({"status": "ok"})
        user = self.principal(request)
        if user is None and not ("open_route" in self.faults and path == "/v1/tools"):
            return self.refuse(request)
        if method not in ("GET", "HEAD") and request.headers.get("authorization") is None:
            if request.headers.get("origin") != self.origin and "no_csrf" not in self.faults:
                return problem(403, "csrf_origin_mismatch")
        return await self.private(request, route, ids, user or "")

    async def login(self, request: Request) -> Response:
        body, error = await self.body(request)
        if error is not None or body is None:
            return error or problem(400, "malformed_json")
        invalid = self.invalid(body, ("email", "password"))
        if invalid is not None:
            return invalid
        known = self.store.users.get(body["email"])
        if known is None or known[0] != body["password"]:
            return problem(401, "invalid_credentials")
        token, session_id = secrets.token_urlsafe(32), self.store.new_id()
        self.store.sessions[token] = (known[1], session_id)
        self.store.objects[session_id] = ("session", known[1], "")
        answer: dict[str, Any] = {"id": known[1], "email": body["email"]}
        if "token_in_body" in self.faults:
            answer["token"] = token
        response = JSONResponse(answer)
        if "weak_cookie" in self.faults:
            response.set_cookie(COOKIE, token, path="/", secure=True, httponly=False, samesite=None)
        else:
            response.set_cookie(COOKIE, token, path="/", secure=True, httponly=True, samesite="lax")
        return response

    def owned(self, user: str, ids: dict[str, str]) -> bool:
        for value in ids.values():
            found = self.store.objects.get(value)
            if found is None or (found[1] != user and "idor" not in self.faults):
                return False
        return True

    async def private(
        self, request: Request, route: Route, ids: dict[str, str], user: str
    ) -> Response:
        store, method, path = self.store, request.method, request.url.path
        if ids and not self.owned(user, ids):
            return problem(404, "not_found")
        if path == "/v1/me":
            return JSONResponse({"id": user}) if method == "GET" else JSONResponse({"id": user})
        if path == "/v1/me/sessions":
            token = request.cookies.get(COOKIE, "")
            current = store.sessions.get(token, ("", ""))[1]
            return JSONResponse({"items": [{"id": current, "current": True}]})
        if path == "/v1/auth/logout":
            if "logout_noop" not in self.faults:
                store.sessions.pop(request.cookies.get(COOKIE, ""), None)
            return Response(status_code=204)
        if path.endswith("/api-keys"):
            return await self.api_keys(request, user, ids["workspace_id"])
        if "/api-keys/" in path and method == "DELETE":
            if "revoked_key_works" not in self.faults:
                for secret, key_id in list(store.keys.items()):
                    if key_id == ids["key_id"]:
                        store.keys[f"revoked-{secret}"] = store.keys.pop(secret)
            return Response(status_code=204)
        if method == "POST" and route.key == ("POST", "/v1/workspaces"):
            body, error = await self.body(request)
            if error is not None or body is None:
                return error or problem(400, "malformed_json")
            invalid = self.invalid(body, ("name",))
            if invalid is not None:
                return invalid
            return self.create(user, "workspace", "")
        if method == "POST" and path.endswith("/messages"):
            body, error = await self.body(request)
            if error is not None or body is None:
                return error or problem(400, "malformed_json")
            files = {str(i): str(i) for i in body.get("file_ids", [])}
            if "idor_body" in self.faults or self.owned(user, files):
                return JSONResponse({"id": "m"})
            return problem(404, "not_found")
        if method == "POST" and path.endswith(("/bots", "/conversations", "/files")):
            kind = path.rsplit("/", 1)[1]
            return self.create(user, kind, ids.get("workspace_id", ""))
        if method == "DELETE":
            for value in ids.values():
                store.objects.pop(value, None)
            return Response(status_code=204)
        return JSONResponse({"items": [], "next_cursor": None})

    def create(self, user: str, kind: str, workspace: str) -> Response:
        new = self.store.new_id()
        self.store.objects[new] = (kind, user, workspace)
        return JSONResponse({"id": new}, status_code=201)

    async def api_keys(self, request: Request, user: str, workspace: str) -> Response:
        mine = [(s, k) for s, k in self.store.keys.items() if self.store.objects[k][2] == workspace]
        if request.method == "GET":
            show = "key_in_list" in self.faults
            items = [{"id": k, **({"key": s} if show else {})} for s, k in mine]
            return JSONResponse({"items": items, "next_cursor": None})
        key_id, secret = self.store.new_id(), "lpk_" + secrets.token_urlsafe(32)
        self.store.objects[key_id] = ("key", user, workspace)
        self.store.keys[secret] = key_id
        return JSONResponse({"id": key_id, "key": secret}, status_code=201)

    def add_user(self, email: str, password: str) -> None:
        user_id = self.store.new_id()
        self.store.users[email] = (password, user_id)
        self.store.objects[user_id] = ("user", user_id, "")


@dataclass
class Imitation:
    url: str
    app: WrongApp


@contextmanager
def serve_imitation(*faults: str) -> Iterator[Imitation]:
    """Serve the imitation with ``faults`` on a free loopback port for the ``with`` block."""
    unknown = set(faults) - set(FAULTS)
    assert not unknown, unknown
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    wrong = WrongApp(frozenset(faults), url)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(routes=[StarletteRoute("/{path:path}", wrong.handle, methods=methods)])
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield Imitation(url, wrong)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
