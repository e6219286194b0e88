"""Every error is RFC 9457 problem+json with a code and request id, echoing no input (C4, C7)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.auth.helpers import FOREIGN_ORIGIN, send
from tests.factories.users import create_actor, strong_password
from tests.problems import assert_problem
from tests.support import Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C4",
    "C7",
    red="put the rejected input value into validation errors (app/core/errors.py "
    "_validation_errors), take X-Request-ID from the client, or answer an error without "
    "problem+json",
)


@pytest.fixture(scope="module")
def user(server: Server, db: Database) -> Actor:
    return create_actor(server, db, "errors")


def _cookie(actor: Actor) -> dict[str, str]:
    return {"Cookie": f"{actor.cookie_name}={actor.cookie}", "Origin": actor.server.origin}


# (method, path, request kwargs builder, expected status, expected code)
ERROR_CASES: list[Any] = [
    pytest.param(
        "POST",
        "/v1/auth/login",
        lambda _a: {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        400,
        "malformed_json",
        id="400-malformed-json",
    ),
    pytest.param("GET", "/v1/me", lambda _a: {}, 401, "unauthenticated", id="401-anonymous"),
    pytest.param(
        "POST",
        "/v1/auth/login",
        lambda a: {"json": {"email": a.email, "password": strong_password()}},
        401,
        "invalid_credentials",
        id="401-bad-login",
    ),
    pytest.param(
        "PATCH",
        "/v1/me",
        lambda a: {
            "json": {"display_name": "x"},
            "headers": {**_cookie(a), "Origin": FOREIGN_ORIGIN},
        },
        403,
        "csrf_origin_mismatch",
        id="403-csrf",
    ),
    pytest.param(
        "GET",
        "/v1/admin/users",
        lambda a: {"headers": _cookie(a)},
        403,
        "staff_only",
        id="403-staff",
    ),
    pytest.param("GET", "/v1/nope", lambda _a: {}, 404, "not_found", id="404-route"),
    pytest.param(
        "GET",
        f"/v1/workspaces/{uuid.uuid4()}",
        lambda a: {"headers": _cookie(a)},
        404,
        "not_found",
        id="404-resource",
    ),
    pytest.param("PUT", "/v1/auth/login", lambda _a: {}, 405, "method_not_allowed", id="405"),
    pytest.param(
        "POST",
        "/v1/auth/login",
        lambda _a: {"content": "email=x", "headers": {"Content-Type": "text/plain"}},
        415,
        "json_required",
        id="415",
    ),
    pytest.param(
        "POST",
        "/v1/auth/login",
        lambda _a: {"json": {"email": "not-an-email", "password": "hunter2-secret"}},
        422,
        "validation_failed",
        id="422-validation",
    ),
    pytest.param(
        "GET",
        "/v1/workspaces?limit=1000",
        lambda a: {"headers": _cookie(a)},
        422,
        "validation_failed",
        id="422-limit",
    ),
    pytest.param(
        "GET",
        "/v1/workspaces?cursor=bm90LWEtY3Vyc29y",
        lambda a: {"headers": _cookie(a)},
        400,
        "invalid_cursor",
        id="400-cursor",
    ),
]


class TestProblemDetails:
    @pytest.mark.parametrize(("method", "path", "build", "status", "code"), ERROR_CASES)
    def test_error_shape(
        self,
        server: Server,
        user: Actor,
        method: str,
        path: str,
        build: Any,
        status: int,
        code: str,
    ) -> None:
        kwargs = build(user)
        kwargs["headers"] = {"Origin": server.origin, **kwargs.get("headers", {})}
        response = send(server, method, path, **kwargs)
        body = assert_problem(response, status, code)
        assert body["type"]
        assert body["title"]
        assert body["detail"]
        assert isinstance(body["status"], int)
        if status == 401:
            assert response.headers["www-authenticate"].lower().startswith("bearer")

    def test_validation_errors_do_not_echo_input(self, server: Server) -> None:
        secret = "hunter2-" + strong_password()
        response = send(
            server,
            "POST",
            "/v1/auth/signup",
            headers={"Origin": server.origin},
            json={"email": f"{secret}@", "password": secret, "display_name": "\x00" + secret},
        )
        body = assert_problem(response, 422, "validation_failed")
        assert secret not in response.text
        assert all(set(error) == {"loc", "msg", "type"} for error in body["errors"])

    def test_request_id_unique_and_not_taken_from_an_untrusted_client(self, server: Server) -> None:
        forged = "forged-request-id-0001"
        first = send(server, "GET", "/v1/me", headers={"X-Request-ID": forged})
        second = send(server, "GET", "/v1/me", headers={"X-Request-ID": forged})
        ids = {assert_problem(r, 401)["request_id"] for r in (first, second)}
        assert len(ids) == 2
        assert forged not in ids

    def test_success_responses_carry_a_request_id(self, user: Actor) -> None:
        response = user.get("/v1/me")
        assert response.status_code == 200
        assert len(response.headers["x-request-id"]) >= 16
