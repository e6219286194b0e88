"""C1, authentication: every route is public by name or guarded, and every guarded route refuses
every kind of bad credential with one and the same 401.

The route table comes from the application itself (``app.api.api_router``, cross-checked against
what ``create_app()`` serves), so a route is covered the moment it exists: left unclassified it
fails ``test_every_route_is_public_listed_or_guarded``; guarded, it joins the credential matrix.
The credentials are real ones made unusable the way they die in production (expiry, logout, key
revocation, suspension); the database is used only to move expiry times into the past.
"""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from app.api import PRIVATE_DEPENDENCIES, PUBLIC_ROUTES
from app.core.errors import PROBLEM_JSON
from app.identity.dependencies import get_principal
from app.identity.rate_limits import limit_reads
from tests.factories.users import create_actor, login
from tests.factories.workspaces import create_api_key, create_workspace
from tests.route_table import RouteInfo, private_routes, route_table, without_request_id
from tests.support import Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C1",
    red="add a route whose dependencies resolve no principal without listing it in PUBLIC_ROUTES,"
    " or let get_principal accept a missing, expired, tampered, revoked or wrong-kind "
    "credential",
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def send(
    client: httpx.Client, server: Server, route: RouteInfo, headers: Mapping[str, str]
) -> httpx.Response:
    """Call ``route`` with random ids; unsafe methods carry a minimal JSON body.

    ``client`` only reuses connections: its cookie jar is emptied first, so the request carries
    exactly ``headers``.
    """
    client.cookies.clear()
    kwargs: dict[str, Any] = {}
    if route.method not in SAFE_METHODS:
        kwargs["json"] = {}
    return client.request(
        route.method,
        server.url + route.url(route.random_ids()),
        headers={"Origin": server.origin, **headers},
        **kwargs,
    )


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as http:
        yield http


# --- The classification ---------------------------------------------------------------------


def test_every_route_is_public_listed_or_guarded() -> None:
    """The routes that never resolve a principal are exactly ``PUBLIC_ROUTES``."""
    table = route_table()
    unguarded = {route.key for route in table if not route.depends_on(get_principal)}
    unclassified = unguarded - PUBLIC_ROUTES
    assert not unclassified, (
        f"routes without a principal dependency and not in app.api.PUBLIC_ROUTES: "
        f"{sorted(unclassified)}"
    )
    guarded_but_listed = PUBLIC_ROUTES - unguarded
    assert not guarded_but_listed, (
        f"PUBLIC_ROUTES lists routes that do not exist or are guarded: {sorted(guarded_but_listed)}"
    )
    assert len({route.key for route in table}) == len(table), "duplicate (method, path) routes"


def test_the_app_serves_exactly_the_inventoried_routes() -> None:
    """``create_app()`` adds no route beyond ``api_router`` (one that would escape this file)."""
    from app.core.config import Environment, Settings
    from app.main import create_app

    settings = Settings(
        environment=Environment.TEST,
        secret_key=secrets.token_urlsafe(48),
        docs_enabled=False,
        allowed_hosts=["127.0.0.1"],
    )
    served = {route.key for route in route_table(create_app(settings).routes)}
    assert served == {route.key for route in route_table()}


def test_the_inventory_sees_every_domain() -> None:
    """Guard against a silently empty table (a FastAPI upgrade changing how routes nest)."""
    prefixes = {route.path.split("/")[2] for route in private_routes()}
    assert {"auth", "me", "workspaces", "invitations", "admin"} <= prefixes
    assert {"bots", "conversations", "tools"} <= prefixes
    assert len(private_routes()) >= 20


def test_every_dependency_runs_on_the_event_loop() -> None:
    """A plain ``def`` dependency is run in the thread pool on every request (a hand-off to a
    worker thread and back, ~0.1 ms of CPU; docs/performance.md). Ours only read app state, so
    they are ``async def``; this fails on the first one that is not."""
    sync = {
        f"{info.label}: {call.__module__}.{call.__qualname__}"
        for info in route_table()
        for call in info.calls
        if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))
    }
    assert not sync, sorted(sync)


# --- The credential matrix ------------------------------------------------------------------

CREDENTIALS = (
    "none",
    "garbage-cookie",
    "empty-cookie",
    "garbage-bearer",
    "empty-bearer",
    "basic-scheme",
    "unknown-api-key",
    "overlong-api-key",
    "idle-expired-session",
    "absolute-expired-session",
    "tampered-session",
    "revoked-session",
    "suspended-user-session",
    "revoked-api-key",
    "expired-api-key",
    "suspended-user-api-key",
    "session-token-as-bearer",
    "api-key-as-cookie",
)


def _current_session_id(actor: Actor) -> str:
    response = actor.get("/v1/me/sessions")
    assert response.status_code == 200, response.text
    current = [item["id"] for item in response.json()["items"] if item["current"]]
    assert len(current) == 1
    return str(current[0])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _cookie(actor: Actor, token: str) -> dict[str, str]:
    return {"Cookie": f"{actor.cookie_name}={token}"}


def _key_works(server: Server, key: str) -> bool:
    response = httpx.get(server.url + "/v1/workspaces", headers=_bearer(key), timeout=30)
    return response.status_code == 200


def _session_works(actor: Actor) -> bool:
    return actor.get("/v1/me").status_code == 200


def _tamper(token: str) -> str:
    i = len(token) // 2
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


@pytest.fixture(scope="module")
def credentials(server: Server, db: Database) -> dict[str, dict[str, str]]:
    """Headers for every credential in ``CREDENTIALS``; each real one is shown to work first."""
    ghost = create_actor(server, db, "ghost")
    assert ghost.cookie is not None
    workspace_id = create_workspace(ghost)

    live_key = create_api_key(ghost, workspace_id, ["workspace:read"])["key"]
    revoked_key = create_api_key(ghost, workspace_id, ["workspace:read"])
    expired_key = create_api_key(ghost, workspace_id, ["workspace:read"])
    for key in (live_key, revoked_key["key"], expired_key["key"]):
        assert _key_works(server, key)
    revoke = ghost.delete(f"/v1/workspaces/{workspace_id}/api-keys/{revoked_key['id']}")
    assert revoke.status_code == 204, revoke.text
    db.scalar(
        "UPDATE api_key SET expires_at = now() - interval '1 minute' WHERE id = %s RETURNING id",
        expired_key["id"],
    )

    def another_session() -> Actor:
        actor = login(server, ghost.email, ghost.password)
        assert _session_works(actor)
        return actor

    idle = another_session()
    db.scalar(
        "UPDATE user_session SET idle_expires_at = now() - interval '1 minute' "
        "WHERE id = %s RETURNING id",
        _current_session_id(idle),
    )
    absolute = another_session()
    db.scalar(
        "UPDATE user_session SET absolute_expires_at = now() - interval '1 minute' "
        "WHERE id = %s RETURNING id",
        _current_session_id(absolute),
    )
    revoked = another_session()
    logout = revoked.post("/v1/auth/logout")
    assert logout.status_code == 204, logout.text

    suspended = create_actor(server, db, "suspended")
    suspended_workspace = create_workspace(suspended)
    suspended_key = create_api_key(suspended, suspended_workspace, ["workspace:read"])["key"]
    assert _session_works(suspended)
    assert _key_works(server, suspended_key)
    db.scalar(
        "UPDATE user_account SET suspended_at = now() WHERE id = %s RETURNING id",
        suspended.user_id,
    )

    assert idle.cookie is not None
    assert absolute.cookie is not None
    assert revoked.cookie is not None
    assert suspended.cookie is not None
    headers: dict[str, dict[str, str]] = {
        "none": {},
        "garbage-cookie": _cookie(ghost, secrets.token_urlsafe(32)),
        "empty-cookie": _cookie(ghost, ""),
        "garbage-bearer": _bearer(secrets.token_urlsafe(32)),
        "empty-bearer": {"Authorization": "Bearer"},
        "basic-scheme": {"Authorization": "Basic " + secrets.token_urlsafe(16)},
        "unknown-api-key": _bearer("lpk_" + secrets.token_urlsafe(32)),
        "overlong-api-key": _bearer("lpk_" + "a" * 4096),
        "idle-expired-session": _cookie(ghost, idle.cookie),
        "absolute-expired-session": _cookie(ghost, absolute.cookie),
        "tampered-session": _cookie(ghost, _tamper(ghost.cookie)),
        "revoked-session": _cookie(ghost, revoked.cookie),
        "suspended-user-session": _cookie(ghost, suspended.cookie),
        "revoked-api-key": _bearer(revoked_key["key"]),
        "expired-api-key": _bearer(expired_key["key"]),
        "suspended-user-api-key": _bearer(suspended_key),
        "session-token-as-bearer": _bearer(ghost.cookie),
        "api-key-as-cookie": _cookie(ghost, live_key),
    }
    assert set(headers) == set(CREDENTIALS)
    # The untouched originals still work: what fails below fails because of the change made.
    assert _session_works(ghost)
    assert _key_works(server, live_key)
    return headers


@pytest.fixture(scope="module")
def reference_401(server: Server) -> httpx.Response:
    """The one 401 every refusal must equal (apart from its request id)."""
    response = httpx.get(server.url + "/v1/me", timeout=30)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert without_request_id(response)["code"] == "unauthenticated"
    return response


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("route", private_routes(), ids=lambda route: route.label)
def test_private_route_refuses_bad_credential(
    server: Server,
    client: httpx.Client,
    credentials: dict[str, dict[str, str]],
    reference_401: httpx.Response,
    route: RouteInfo,
    credential: str,
) -> None:
    response = send(client, server, route, credentials[credential])
    assert response.status_code == 401, f"{route.label} with {credential}: {response.text}"
    assert response.headers["content-type"] == PROBLEM_JSON
    assert without_request_id(response) == without_request_id(reference_401)
    assert response.headers.get("www-authenticate") == reference_401.headers["www-authenticate"]
    assert "set-cookie" not in response.headers


def test_a_private_route_that_forgets_its_principal_is_still_guarded() -> None:
    """Private routers are included with ``PRIVATE_DEPENDENCIES`` (app/api.py): a route added to
    one without a principal parameter still resolves ``get_principal`` (and the read budget).
    Every route today declares its own principal too, so only this test sees the router-level
    guard go missing."""
    private = APIRouter()

    @private.get("/forgot")
    async def forgot() -> dict[str, str]:
        return {}

    application = APIRouter()
    application.include_router(private, dependencies=PRIVATE_DEPENDENCIES)
    [route] = route_table(application.routes)
    assert route.depends_on(get_principal)
    assert route.depends_on(limit_reads)
