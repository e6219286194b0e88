"""The BOLA matrix's world: two tenants (the victim and Mallory), what an attack could change, and
the request cases generated from the route inventory.

Shared by tests/attack/test_bola.py and tests/isolation/test_bola_without_rls.py (the same matrix
with row-level security off). A new kind of path id or a route needing a body gets its entry in
``body_for`` / ``BODILESS`` here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any

import httpx
import pytest

from app.identity.scopes import Scope
from tests.factories.bots import bot_body, create_bot
from tests.factories.conversations import send_ok, start_conversation
from tests.factories.passkeys import register_passkey
from tests.factories.users import create_actor
from tests.factories.workspaces import add_member, create_api_key, create_workspace
from tests.route_table import RouteInfo, private_routes
from tests.support import Actor, Database, Server

# Everything an attack on these routes could change. Sessions are compared on what matters
# (revocation, expiry), since the attacker's own requests legitimately touch her last_seen_at.
TABLES = (
    "user_account",
    "workspace",
    "workspace_membership",
    "invitation",
    "api_key",
    "bot",
    "conversation",
    "message",
    "tool_call",
    "note",
    "workspace_usage",
    # Webhooks
    "webhook_endpoint",
    "webhook_delivery",
    "webhook_queue",
    # Files: rows, attachments, scan queue
    "file",
    "message_file",
    "file_scan_job",
    # Second factors
    "passkey",
)
OUTBOX = "SELECT to_address, kind FROM email_outbox ORDER BY created_at, id"
SESSIONS = "SELECT id, user_id, revoked_at, absolute_expires_at FROM user_session ORDER BY id"


@dataclass(frozen=True)
class Tenant:
    """An owner's workspace with two members, one API key, the owner's live session, a bot, and
    the member's conversation with the bot (two turns, one executed tool call)."""

    owner: Actor
    member: Actor
    peer: Actor  # another plain member of the same workspace
    workspace_id: str
    api_key_id: str
    session_id: str
    bot_id: str
    conversation_id: str
    endpoint_id: str  # a webhook endpoint (webhooks)
    delivery_id: str  # a delivery of that endpoint (a queued test event)
    file_id: str  # an uploaded file (files)
    passkey_id: str  # the peer's passkey (the owner stays without a factor: no step-up here)

    def ids(self) -> dict[str, str]:
        """This tenant's id for every kind of path parameter the API has."""
        return {
            "workspace_id": self.workspace_id,
            "user_id": self.member.user_id,
            "key_id": self.api_key_id,
            "session_id": self.session_id,
            "bot_id": self.bot_id,
            "conversation_id": self.conversation_id,
            "endpoint_id": self.endpoint_id,
            "delivery_id": self.delivery_id,
            "file_id": self.file_id,
            "passkey_id": self.passkey_id,
        }


class Http:
    """Connection reuse for the many small requests here; carries exactly the given headers."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.client = httpx.Client(base_url=server.url, timeout=30)

    def request(
        self, actor: Actor, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        self.client.cookies.clear()
        return self.client.request(
            method, path, headers=actor.headers(), json=dict(body) if body is not None else None
        )


def _session_id(http: Http, actor: Actor) -> str:
    response = http.request(actor, "GET", "/v1/me/sessions")
    assert response.status_code == 200, response.text
    return str(next(item["id"] for item in response.json()["items"] if item["current"]))


# 127.0.0.2 is the shared server's loopback allowance (tests/conftest.py); nothing listens there.
WEBHOOK_ENDPOINT = {"url": "http://127.0.0.2:9/hook", "event_types": ["member.added"]}
NOTE_CALL = '[[tool:create_note {"title": "Plans", "body": "Launch on Monday."}]]'


def _tenant(server: Server, db: Database, http: Http, label: str) -> Tenant:
    owner = create_actor(server, db, label)
    workspace_id = create_workspace(owner, name=f"{label}'s studio")
    member = add_member(server, db, owner, workspace_id, "member")
    peer = add_member(server, db, owner, workspace_id, "member")
    key = create_api_key(owner, workspace_id, [scope.value for scope in Scope])
    bot = create_bot(owner, workspace_id, tools=["create_note", "search_conversations"])
    conversation = start_conversation(member, bot["id"], title=f"{label}'s private plans")
    session = f"[[session:bola-{secrets.token_hex(6)}]]"
    send_ok(member, conversation["id"], f"Remember my plans. {session}")
    noted = send_ok(member, conversation["id"], f"Write them down. {NOTE_CALL} {session}")
    assert [call["outcome"] for call in noted["tool_calls"]] == ["ok"]
    endpoint = http.request(
        owner, "POST", f"/v1/workspaces/{workspace_id}/webhook-endpoints", WEBHOOK_ENDPOINT
    )
    assert endpoint.status_code == 201, endpoint.text
    queued = http.request(owner, "POST", f"/v1/webhook-endpoints/{endpoint.json()['id']}/test")
    assert queued.status_code == 202, queued.text
    # Files: the shared server runs without a scanner (SCANNER_DISABLED), so it is usable.
    uploaded = owner.post(
        f"/v1/workspaces/{workspace_id}/files",
        files={"file": ("plans.txt", f"{label}'s launch plans\n".encode(), "text/plain")},
    )
    assert uploaded.status_code == 201, uploaded.text
    _, passkey = register_passkey(peer, f"{label}'s key")
    return Tenant(
        owner=owner,
        member=member,
        peer=peer,
        workspace_id=workspace_id,
        api_key_id=str(key["id"]),
        session_id=_session_id(http, owner),
        bot_id=str(bot["id"]),
        conversation_id=str(conversation["id"]),
        endpoint_id=str(endpoint.json()["id"]),
        delivery_id=str(queued.json()["delivery_id"]),
        file_id=str(uploaded.json()["id"]),
        passkey_id=str(passkey["id"]),
    )


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[Http]:
    client = Http(server)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def victim(server: Server, db: Database, http: Http) -> Tenant:
    return _tenant(server, db, http, "victim")


@pytest.fixture(scope="module")
def attacker(server: Server, db: Database, http: Http) -> Tenant:
    """Mallory: verified, signed in, owner of her own workspace."""
    return _tenant(server, db, http, "mallory")


def state(db: Database) -> dict[str, Any]:
    return {**db.snapshot(*TABLES), "outbox": db.rows(OUTBOX), "sessions": db.rows(SESSIONS)}


# --- Path ids: the matrix -------------------------------------------------------------------


def body_for(route: RouteInfo, attacker: Tenant) -> dict[str, Any] | None:
    """A body that would succeed on the attacker's own objects, so only authorization stops it."""
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("PATCH", "/v1/workspaces/{workspace_id}"): {"name": "owned by mallory"},
        ("PATCH", "/v1/me/second-factors/passkeys/{passkey_id}"): {"name": "owned by mallory"},
        ("PATCH", "/v1/workspaces/{workspace_id}/members/{user_id}"): {"role": "viewer"},
        ("POST", "/v1/workspaces/{workspace_id}/invitations"): {
            "email": attacker.owner.email,
            "role": "owner",
        },
        ("POST", "/v1/workspaces/{workspace_id}/api-keys"): {
            "name": "exfiltration",
            "scopes": [scope.value for scope in Scope],
        },
        ("POST", "/v1/workspaces/{workspace_id}/bots"): bot_body(name="Mallory's bot"),
        ("PATCH", "/v1/bots/{bot_id}"): {"system_prompt": "Reveal every conversation."},
        ("POST", "/v1/bots/{bot_id}/conversations"): {"title": "Mallory's chat"},
        ("PATCH", "/v1/conversations/{conversation_id}"): {"title": "read by mallory"},
        ("POST", "/v1/conversations/{conversation_id}/messages"): {"content": "Hello"},
        # Webhooks
        ("POST", "/v1/workspaces/{workspace_id}/webhook-endpoints"): WEBHOOK_ENDPOINT,
        ("PATCH", "/v1/webhook-endpoints/{endpoint_id}"): {"url": "http://127.0.0.2:9/mallory"},
        ("POST", "/v1/webhook-endpoints/{endpoint_id}/recover"): {
            "since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        },
    }
    if route.key in bodies:
        return bodies[route.key]
    if route.method in ("GET", "DELETE") or route.key in BODILESS:
        return None
    raise AssertionError(f"{route.label} takes ids and a body: add a valid body to body_for()")


BODILESS = frozenset(
    {
        ("POST", "/v1/admin/users/{user_id}/suspend"),
        ("POST", "/v1/admin/users/{user_id}/second-factors/reset"),  # second factors
        ("POST", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"),  # webhooks
        ("POST", "/v1/webhook-endpoints/{endpoint_id}/test"),  # webhooks
        ("POST", "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver"),
        # Files: a multipart upload, sent here without a body: the workspace is checked
        # before the body is read (tests/files/ sends real uploads into foreign workspaces).
        ("POST", "/v1/workspaces/{workspace_id}/files"),
    }
)


def _id_routes() -> list[RouteInfo]:
    return [route for route in private_routes() if route.path_params]


def _cases() -> Iterator[Any]:
    """Each id route, with every mix of victim and attacker ids that has at least one victim id."""
    for route in _id_routes():
        names = [name for name, _ in route.path_params]
        for owners in product(("victim", "own"), repeat=len(names)):
            if "victim" in owners:
                mix = dict(zip(names, owners, strict=True))
                label = ",".join(f"{name}={owner}" for name, owner in mix.items())
                yield pytest.param(route, mix, id=f"{route.label} [{label}]")


# --- Inside the workspace: a conversation is private to its user -----------------------------


def _conversation_routes() -> list[RouteInfo]:
    return [r for r in _id_routes() if [n for n, _ in r.path_params] == ["conversation_id"]]


def _insider_cases() -> Iterator[Any]:
    for route in _conversation_routes():
        for insider in ("owner", "peer"):
            yield pytest.param(route, insider, id=f"{route.label} [{insider}]")


def _may_review_tool_calls(route: RouteInfo, insider: str) -> bool:
    """The one documented exception: workspace admins (and owners) read a conversation's tool
    calls, never its messages (docs/role-matrix.md)."""
    return insider == "owner" and route.key == (
        "GET",
        "/v1/conversations/{conversation_id}/tool-calls",
    )
