"""Chat sends are rate limited per user, stricter than reads (C6), and fail closed.

A dedicated server with a tight budget (3 sends a minute) against the same database; with
``REDIS_URL`` set (CI: the machine's Redis) the limit lives in Redis, shared by every worker.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.servers import ServerFactory
from tests.support import Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C6",
    red="remove the chat-send budget from the send route, key it on a forwarded header from an "
    "untrusted peer, or let sends through when the limit store is down",
)

SEND = "/v1/conversations/{}/messages"


def _server(
    server: Server, server_factory: ServerFactory, tmp_path: Path, **extra: str
) -> AbstractContextManager[Server]:
    env = {
        **server.env,
        "RATE_LIMIT_CHAT_SEND": "3/minute",
        "RATE_LIMIT_KEY_PREFIX": f"lp-rl-{secrets.token_hex(6)}",
        **extra,
    }
    # A server given a dead store is unready by design (/readyz names redis): wait for liveness.
    ready_path = "/healthz" if "REDIS_URL" in extra else "/readyz"
    return server_factory(env, log_path=tmp_path / "server.log", ready_path=ready_path)


@pytest.fixture
def tight(server: Server, server_factory: ServerFactory, tmp_path: Path) -> Iterator[Server]:
    with _server(server, server_factory, tmp_path) as srv:
        yield srv


def _conversation(actor: Actor) -> str:
    workspace_id = create_workspace(actor)
    bot = actor.post(
        f"/v1/workspaces/{workspace_id}/bots",
        json={"name": "B", "system_prompt": "Be brief.", "model": "stub-small"},
    )
    assert bot.status_code == 201, bot.text
    conversation = actor.post(f"/v1/bots/{bot.json()['id']}/conversations", json={})
    assert conversation.status_code == 201, conversation.text
    return str(conversation.json()["id"])


def _send(actor: Actor, conversation_id: str, text: str) -> int:
    response = actor.post(
        SEND.format(conversation_id), json={"content": text}, headers={"Accept": "application/json"}
    )
    return response.status_code


def test_fourth_send_in_a_minute_is_refused_and_stores_nothing(tight: Server, db: Database) -> None:
    alice = create_actor(tight, db, "rl-alice")
    conversation_id = _conversation(alice)
    assert [_send(alice, conversation_id, f"hello {i}") for i in range(3)] == [200, 200, 200]
    refused = alice.post(
        SEND.format(conversation_id),
        json={"content": "one too many"},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    stored = db.scalar(
        "SELECT count(*) FROM message WHERE conversation_id = %s AND content = 'one too many'",
        conversation_id,
    )
    assert stored == 0
    # Reads are not on the send budget.
    assert alice.get(SEND.format(conversation_id)).status_code == 200
    # The budget is per user: someone else still sends.
    bob = create_actor(tight, db, "rl-bob")
    assert _send(bob, _conversation(bob), "hi") == 200


def test_forged_client_ip_headers_do_not_reset_the_budget(tight: Server, db: Database) -> None:
    alice = create_actor(tight, db, "rl-spoof")
    conversation_id = _conversation(alice)
    codes = [
        alice.post(
            SEND.format(conversation_id),
            json={"content": f"m{i}"},
            headers={
                "Accept": "application/json",
                "X-Forwarded-For": f"198.51.100.{i}",
                "CF-Connecting-IP": f"203.0.113.{i}",
            },
        ).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_sends_fail_closed_when_the_limit_store_is_down(
    server: Server, server_factory: ServerFactory, db: Database, tmp_path: Path
) -> None:
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    with _server(server, server_factory, tmp_path, REDIS_URL=dead) as srv:
        # Signing up is rate limited too (and fails closed): set up on the suite's server, then
        # send through the one whose store is down with the same session.
        owner = create_actor(server, db, "rl-down")
        conversation_id = _conversation(owner)
        alice = dataclasses.replace(owner, server=srv)
        response = alice.post(
            SEND.format(conversation_id),
            json={"content": "unmetered?"},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 503
        assert response.json()["code"] == "rate_limit_unavailable"
        stored = db.scalar(
            "SELECT count(*) FROM message WHERE conversation_id = %s", conversation_id
        )
        assert stored == 0


def _closed_port() -> int:
    from tests.support import free_port

    return free_port()  # bound and released: nothing listens there


def test_ci_uses_the_real_redis() -> None:
    if os.environ.get("CI", "").lower() == "true":
        assert os.environ.get("REDIS_URL"), "CI must run the limits against the machine's Redis"
