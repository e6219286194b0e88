"""C4: no secret in any client-visible response, error, OpenAPI document or log line.

A creator signs in (a session token in a cookie), creates an API key and a webhook endpoint (both
secrets shown once, at creation), then every GET route of the application is called with the
cookie and with the key, using the creator's real ids (a random id where she has none), and a set
of errors is provoked with the secrets inside the request: malformed JSON, an id that is the key,
unknown fields holding the password, a method the route lacks, a tampered key that keeps the
real key's prefix. No response body or header may carry any of the four secrets, nor anything
``app.core.secret_scan.find_secret_types`` recognises; nor may the server log, afterwards. The
OpenAPI document (its examples, defaults and descriptions) is scanned the same way.

The session log-scenario test (tests/observability/test_log_scenario.py) covers the log of a
longer journey; this one covers what the client sees, on the shared server.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from app.api import api_router
from app.core.config import Environment, Settings
from app.core.secret_scan import find_secret_types
from app.main import create_app
from tests.factories.bots import create_bot
from tests.factories.conversations import start_conversation
from tests.factories.users import create_actor
from tests.factories.workspaces import create_api_key, create_workspace
from tests.support import Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C4",
    red="return a secret after its creation (e.g. the webhook secret in GET /v1/webhook-endpoints/"
    "{id}), echo an input value in an error, put a credential in an OpenAPI example, or print a"
    " password to the server log",
)

PARAM = re.compile(r"{(\w+)}")
# 127.0.0.2 is the shared server's loopback allowance (tests/conftest.py); nothing listens there.
HOOK = {"url": "http://127.0.0.2:9/hook", "event_types": ["member.added"]}


@dataclass
class Exposure:
    """The creator, her four secrets, her ids by path parameter, and every answer she got."""

    actor: Actor
    secrets: dict[str, str]
    ids: dict[str, str]
    answers: list[httpx.Response] = field(default_factory=list)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = httpx.request(method, self.actor.server.url + path, timeout=30, **kwargs)
        self.answers.append(response)
        return response

    def as_cookie(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.call(
            method, path, headers=self.actor.headers(kwargs.pop("headers", None)), **kwargs
        )

    def as_key(self, method: str, path: str, key: str | None = None) -> httpx.Response:
        return self.call(
            method, path, headers={"Authorization": f"Bearer {key or self.secrets['api_key']}"}
        )

    def leaks(self, text: str) -> list[str]:
        """The names of the secrets in ``text``, and the kinds of credential it holds."""
        found = [name for name, value in self.secrets.items() if value in text]
        return found + find_secret_types(text)


@pytest.fixture(scope="module")
def exposure(server: Server, db: Database) -> Exposure:
    actor = create_actor(server, db, "exposure")
    workspace_id = create_workspace(actor, "Exposure")
    key = create_api_key(actor, workspace_id, ["workspace:read", "bots:read", "webhooks:manage"])
    hook = actor.post(f"/v1/workspaces/{workspace_id}/webhook-endpoints", json=HOOK)
    assert hook.status_code == 201, hook.text
    bot = create_bot(actor, workspace_id)
    conversation = start_conversation(actor, bot["id"])
    assert actor.cookie is not None
    return Exposure(
        actor=actor,
        secrets={
            "password": actor.password,
            "session_token": actor.cookie,
            "api_key": str(key["key"]),
            "webhook_secret": str(hook.json()["secret"]),
        },
        ids={
            "workspace_id": workspace_id,
            "key_id": str(key["id"]),
            "endpoint_id": str(hook.json()["id"]),
            "bot_id": str(bot["id"]),
            "conversation_id": str(conversation["id"]),
            "user_id": actor.user_id,
        },
    )


def get_paths(ids: dict[str, str]) -> list[str]:
    """Every GET route of the application, its ids filled in (a random one where none is known)."""
    templates = {
        str(context.path)
        for context in iter_route_contexts(api_router.routes)
        if "GET" in (context.methods or ())
    }
    assert len(templates) > 15, "the route table looks empty"

    def fill(match: re.Match[str]) -> str:
        return ids.get(match.group(1), str(uuid.uuid4()))

    return sorted(PARAM.sub(fill, template) for template in templates)


@pytest.fixture(scope="module")
def walked(exposure: Exposure) -> list[httpx.Response]:
    """Every GET route, with the cookie and with the key."""
    return [
        response
        for path in get_paths(exposure.ids)
        for response in (exposure.as_cookie("GET", path), exposure.as_key("GET", path))
    ]


@pytest.fixture(scope="module")
def provoked(exposure: Exposure) -> list[tuple[int, httpx.Response]]:
    """Errors provoked with the secrets inside the requests, and the status each must get."""
    s, ids = exposure.secrets, exposure.ids
    workspace = f"/v1/workspaces/{ids['workspace_id']}"
    malformed = f'{{"name": "{s["api_key"]} {s["webhook_secret"]}'.encode()
    unknown_field = {"name": s["webhook_secret"], "scopes": ["nope"], "password": s["password"]}
    stranger = {"email": f"x{secrets.token_hex(4)}@example.com", "password": s["password"]}
    origin = {"Origin": exposure.actor.server.origin}
    stale = {"Cookie": f"{exposure.actor.cookie_name}={s['session_token'][:-4]}abcd"}
    json_body = {"Content-Type": "application/json"}
    return [
        (400, exposure.as_cookie("POST", "/v1/workspaces", headers=json_body, content=malformed)),
        (422, exposure.as_cookie("POST", f"{workspace}/api-keys", json=unknown_field)),
        (422, exposure.as_cookie("GET", f"/v1/workspaces/{s['api_key']}")),
        (404, exposure.as_cookie("GET", f"/v1/bots/{uuid.uuid4()}")),
        (405, exposure.as_cookie("PUT", "/v1/me", json={"password": s["password"]})),
        (401, exposure.call("POST", "/v1/auth/login", headers=origin, json=stranger)),
        (401, exposure.as_key("GET", workspace, key=tampered(s["api_key"]))),
        (401, exposure.call("GET", "/v1/me", headers=stale)),
    ]


def tampered(key: str) -> str:
    """The key with its last six characters changed: same prefix, wrong secret."""
    tail = "A" * 6 if not key.endswith("A" * 6) else "B" * 6
    return key[:-6] + tail


def visible(response: httpx.Response) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.multi_items())
    return f"{headers}\n\n{response.text}"


def test_the_secrets_were_really_handed_out(exposure: Exposure) -> None:
    """Control: each secret is a live credential, and the scanner recognises the two formats."""
    assert exposure.as_key("GET", f"/v1/workspaces/{exposure.ids['workspace_id']}").is_success
    assert exposure.as_cookie("GET", "/v1/me").is_success
    assert find_secret_types(exposure.secrets["api_key"]) == ["Launchproof API key"]
    assert find_secret_types(exposure.secrets["webhook_secret"]) == ["Webhook signing secret"]


def test_no_read_or_list_route_shows_a_secret(
    exposure: Exposure, walked: list[httpx.Response]
) -> None:
    statuses = {response.status_code for response in walked}
    assert {200, 403, 404} <= statuses, "the walk reached no data, or no refusal"
    for response in walked:
        assert response.status_code < 500, (response.request.url, response.text)
        assert exposure.leaks(visible(response)) == [], response.request.url


def test_provoked_errors_show_no_secret(
    exposure: Exposure, provoked: list[tuple[int, httpx.Response]]
) -> None:
    presented = tampered(exposure.secrets["api_key"])
    for expected, response in provoked:
        assert response.status_code == expected, (response.request.url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert exposure.leaks(visible(response)) == [], response.request.url
        assert presented not in response.text


def test_openapi_document_holds_no_credential() -> None:
    """The schema's examples, defaults and descriptions: nothing a scanner takes for a key."""
    settings = Settings(
        environment=Environment.TEST,
        secret_key=secrets.token_urlsafe(48),
        docs_enabled=True,
        allowed_hosts=["127.0.0.1"],
    )
    document = create_app(settings).openapi()
    assert len(document["paths"]) > 15
    text = json.dumps(document, indent=1)
    assert "Shown once" in text, "the schema no longer describes the one-time secrets"
    assert find_secret_types(text) == []


def test_the_server_log_holds_none_of_the_secrets(
    exposure: Exposure,
    walked: list[httpx.Response],
    provoked: list[tuple[int, httpx.Response]],
) -> None:
    """After the walk and the errors, the shared server's log holds none of the four values."""
    assert walked
    assert provoked
    log = exposure.actor.server.log_text()
    assert "request handled" in log, "the server wrote no access log"
    assert [name for name, value in exposure.secrets.items() if value in log] == []
