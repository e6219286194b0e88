"""Rate limits per budget (C6): each fires, keys cannot be forged, and the store's failures.

Dedicated servers with tight budgets (3 a minute) against the session database. The ``proxied``
server trusts the local peer as a proxy, so each test picks its own client IP with
``X-Forwarded-For`` and the tests do not share a per-IP budget; the ``direct`` server trusts no
proxy, so every forwarding header is a forgery there. The Redis tests run their own
``redis-server`` on a free port (pausing and stopping the machine's Redis is not ours to do).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.errors import install_error_handlers
from app.core.middleware import EdgeMiddleware
from app.core.rate_limit import RateLimiter, limit_webhook
from tests.edge.rate_limits import (
    LOGIN,
    SPOOFING_HEADERS,
    as_on,
    assert_limited,
    fresh_ip,
    login_from,
    post_from,
    tight_env,
)
from tests.factories.users import create_actor, unique_email
from tests.factories.workspaces import create_workspace
from tests.servers import ServerFactory
from tests.support import (
    Actor,
    Anonymous,
    Database,
    Server,
)

pytestmark = pytest.mark.checklist(
    "C6",
    red="remove a Budget's dependency from its route (login, signup, reset mail, keys, "
    "invitations, admin, reads, inbound webhooks), key it on a forgeable header, or let auth "
    "budgets fail open when Redis is down",
)


@pytest.fixture(scope="module")
def proxied(server: Server, server_factory: ServerFactory) -> Iterator[Server]:
    with server_factory(
        tight_env(server, TRUSTED_PROXY_CIDRS="127.0.0.1/32"), name="proxied"
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def direct(server: Server, server_factory: ServerFactory) -> Iterator[Server]:
    with server_factory(tight_env(server, TRUSTED_PROXY_CIDRS=""), name="direct") as srv:
        yield srv


# --- Each budget fires ------------------------------------------------------------------------


def test_login_is_limited_per_client_ip(proxied: Server) -> None:
    ip = fresh_ip()
    assert [login_from(proxied, unique_email("ip"), ip) for _ in range(3)] == [401, 401, 401]
    assert_limited(post_from(proxied, LOGIN, {"email": unique_email(), "password": "x"}, ip))
    assert (
        login_from(proxied, unique_email("ip"), fresh_ip()) == 401
    )  # another client is unaffected


def test_login_is_limited_per_account_across_client_ips(proxied: Server) -> None:
    email = unique_email("acct")
    codes = [login_from(proxied, email, fresh_ip()) for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    # The key is the normalised address: case and width variants are the same account.
    assert login_from(proxied, email.upper(), fresh_ip()) == 429
    assert login_from(proxied, unique_email("acct"), fresh_ip()) == 401


def test_signup_is_limited_per_client_ip(proxied: Server) -> None:
    ip = fresh_ip()
    body = {"password": "pw-" + secrets.token_urlsafe(18)}
    codes = [
        post_from(proxied, "/v1/auth/signup", {**body, "email": unique_email("su")}, ip).status_code
        for _ in range(4)
    ]
    assert codes == [202, 202, 202, 429]


@pytest.mark.parametrize("path", ["/v1/auth/password-reset", "/v1/auth/verify-email"])
def test_mail_requests_are_limited_per_client_ip(proxied: Server, path: str) -> None:
    ip = fresh_ip()
    codes = [
        post_from(proxied, path, {"email": unique_email("ip")}, ip).status_code for _ in range(4)
    ]
    assert codes == [202, 202, 202, 429]


@pytest.mark.parametrize("path", ["/v1/auth/password-reset", "/v1/auth/verify-email"])
def test_mail_requests_are_limited_per_account(proxied: Server, path: str) -> None:
    email = unique_email("acct")
    codes = [post_from(proxied, path, {"email": email}, fresh_ip()).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    assert post_from(proxied, path, {"email": unique_email("other")}, fresh_ip()).status_code == 202


def test_api_key_creation_is_limited_per_user(
    server: Server, proxied: Server, db: Database
) -> None:
    owner = create_actor(server, db, "keys")
    workspace_id = create_workspace(owner)
    here = as_on(owner, proxied)
    path = f"/v1/workspaces/{workspace_id}/api-keys"
    body = {"name": "k", "scopes": ["workspace:read"]}
    assert [here.post(path, json=body).status_code for _ in range(3)] == [201, 201, 201]
    assert_limited(here.post(path, json=body))


def test_invitations_are_limited_per_user(server: Server, proxied: Server, db: Database) -> None:
    owner = create_actor(server, db, "inviter")
    workspace_id = create_workspace(owner)
    here = as_on(owner, proxied)
    path = f"/v1/workspaces/{workspace_id}/invitations"
    codes = [here.post(path, json={"email": unique_email("inv")}).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_admin_routes_are_limited_per_staff_user(proxied: Server, staff: Actor) -> None:
    here = as_on(staff, proxied)  # POST: not on the read budget, so only the admin budget counts
    path = f"/v1/admin/users/{uuid.uuid4()}/suspend"
    assert [here.post(path).status_code for _ in range(4)] == [404, 404, 404, 429]


def test_reads_are_limited_per_principal(server: Server, proxied: Server, db: Database) -> None:
    reader = as_on(create_actor(server, db, "reader"), proxied)
    assert [reader.get("/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    assert_limited(reader.get("/v1/me/sessions"))  # one budget for every GET route
    other = as_on(create_actor(server, db, "reader2"), proxied)
    assert other.get("/v1/me").status_code == 200


def test_webhook_budget_is_per_source_and_client_ip() -> None:
    """The inbound webhook route does not exist yet: its helper, on the project's own stack."""
    settings = Settings(
        redis_url=None,
        rate_limit_webhook="2/minute",
        rate_limit_key_prefix=f"lp-hook-{secrets.token_hex(4)}",
    )
    app = FastAPI()
    app.state.rate_limiter = RateLimiter(settings)
    install_error_handlers(app)
    app.add_middleware(EdgeMiddleware, trusted_proxies=[])

    async def hook_limit(request: Request, source: str) -> None:
        await limit_webhook(request, source)

    @app.post("/hooks/{source}", dependencies=[Depends(hook_limit)])
    async def hook(source: str) -> dict[str, str]:
        return {"source": source}

    with TestClient(app) as client:
        spoof = {"X-Forwarded-For": "198.51.100.7"}
        codes = [client.post("/hooks/github", headers=spoof).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert client.post("/hooks/stripe").status_code == 200  # another source


# --- Forged client IPs ------------------------------------------------------------------------


def test_forged_client_ip_headers_from_an_untrusted_peer_do_not_reset_the_ip_budget(
    direct: Server,
) -> None:
    forged: list[dict[str, str]] = [
        dict.fromkeys(SPOOFING_HEADERS, f"198.51.100.{i}")
        | {"Forwarded": f"for=198.51.100.{i};proto=https"}
        for i in range(1, 7)
    ]
    codes = [
        Anonymous(direct)
        .post(LOGIN, json={"email": unique_email("spoof"), "password": "x"}, headers=headers)
        .status_code
        for headers in forged
    ]
    assert codes == [401, 401, 401, 429, 429, 429]
    for name in (*SPOOFING_HEADERS, "Forwarded"):  # and one header at a time
        response = Anonymous(direct).post(
            LOGIN,
            json={"email": unique_email("spoof"), "password": "x"},
            headers={name: "for=192.0.2.1" if name == "Forwarded" else "192.0.2.1"},
        )
        assert response.status_code == 429, name
