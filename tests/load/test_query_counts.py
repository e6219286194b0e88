"""Statements per request on the hot paths stay fixed: no N+1, no repeated lookups (C13).

Counted with a SQLAlchemy ``before_cursor_execute`` listener on the application's own engine,
so this one runs the app in-process (httpx ``ASGITransport``) against the real, migrated
PostgreSQL and Redis of the suite: a performance regression check, not a security property.
The figures and why they are what they are: docs/performance.md, "What was changed".
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event

from app.core.config import Settings
from app.main import create_app
from load import reference_app
from tests.support import Database, Stub, base_env, run_cli

pytestmark = pytest.mark.checklist(
    "C13",
    red="add a statement per list item (N+1) or a repeated lookup to session fetch, lists or the "
    "API-key list",
)

COOKIE = "__Host-lp_session"
ORIGIN = "http://127.0.0.1"
BEGIN = "-- begin"  # a transaction's start, recorded among the statements (not counted as one)
# Were 23 in 3 (docs/performance.md, Round 3); 15 since the settlement is one statement; 9 since
# the conversation and its bot are one read, attachments are looked up only when the history has
# some, and the lease, touch and webhook fan-out ride in the admission and ending statements; 8
# since authentication (the credential, the memberships bound for RLS and the second-factor
# policy) is one call of app_authenticate_session: authentication 1, admission 4, ending 3.
TURN_STATEMENTS, TURN_TRANSACTIONS = 8, 2
Scenario = Callable[[httpx.AsyncClient, list[str]], Awaitable[None]]


def run_signed_in(
    db: Database, monkeypatch: pytest.MonkeyPatch, scenario: Scenario, **extra_env: str
) -> None:
    """A fresh verified user (CLI), the app in-process on the suite's database, signed in."""
    env = base_env(
        db, ALLOWED_HOSTS="127.0.0.1", ALLOWED_ORIGINS=ORIGIN, PUBLIC_URL=ORIGIN, **extra_env
    )
    email, password = f"counts-{secrets.token_hex(6)}@example.com", secrets.token_urlsafe(18)
    created = run_cli(env, "create-user", "--email", email, "--verified", stdin=password + "\n")
    assert created.returncode == 0, created.stderr[-2000:]
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    async def main() -> None:
        app = create_app(Settings())
        async with app.router.lifespan_context(app):
            statements: list[str] = []

            def record(*args: Any) -> None:
                statements.append(str(args[2]))

            def begin(*args: Any) -> None:
                statements.append(BEGIN)

            event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
            event.listen(app.state.engine.sync_engine, "begin", begin)
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(
                transport=transport, base_url=ORIGIN, headers={"Origin": ORIGIN}
            ) as http:
                body = {"email": email, "password": password}
                login = await http.post("/v1/auth/login", json=body)
                assert login.status_code == 200, login.text
                http.headers["Cookie"] = f"{COOKIE}={login.cookies[COOKIE]}"
                await scenario(http, statements)

    asyncio.run(main())


async def count(http: httpx.AsyncClient, statements: list[str], path: str) -> int:
    statements.clear()
    response = await http.get(path)
    assert response.status_code == 200, response.text
    return len([s for s in statements if s != BEGIN])


def test_session_fetch_costs_one_statement(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(http: httpx.AsyncClient, statements: list[str]) -> None:
        await http.get("/v1/me")  # warm-up
        # app_authenticate_session: the session lookup binding app.user_id and the memberships
        # binding app.workspace_ids, in one call; the user row is the one it returned, not a
        # second SELECT.
        assert await count(http, statements, "/v1/me") == 1, statements

    run_signed_in(db, monkeypatch, scenario)


def test_lists_do_not_grow_with_their_page(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(http: httpx.AsyncClient, statements: list[str]) -> None:
        workspaces = [
            (await http.post("/v1/workspaces", json={"name": f"Studio {n}"})).json()["id"]
            for n in range(3)
        ]
        bot = await http.post(
            f"/v1/workspaces/{workspaces[0]}/bots",
            json={"name": "Helper", "system_prompt": "Be brief.", "model": "stub-small"},
        )
        assert bot.status_code == 201, bot.text
        created: list[str] = []
        for n in range(22):
            started = await http.post(
                f"/v1/bots/{bot.json()['id']}/conversations", json={"title": f"Topic {n}"}
            )
            assert started.status_code == 201, started.text
            created.append(started.json()["id"])
        listing = f"/v1/workspaces/{workspaces[0]}/conversations"
        # The list reads plain rows (Repository.paginate_rows): the keyset cursor still walks
        # every conversation exactly once, newest first.
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = {"limit": "5", **({"cursor": cursor} if cursor else {})}
            page = (await http.get(listing, params=params)).json()
            seen.extend(item["id"] for item in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == created[::-1]
        held = 2  # authentication (one call), then the page
        assert await count(http, statements, f"{listing}?limit=20") == held, statements
        assert await count(http, statements, f"{listing}?limit=2") == held, statements
        assert await count(http, statements, "/v1/workspaces?limit=20") == held, statements

    run_signed_in(db, monkeypatch, scenario)


def test_api_key_list_costs_two_statements(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(http: httpx.AsyncClient, statements: list[str]) -> None:
        workspace = (await http.post("/v1/workspaces", json={"name": "Keys"})).json()["id"]
        created = await http.post(
            f"/v1/workspaces/{workspace}/api-keys",
            json={"name": "integration", "scopes": ["conversations:read"]},
        )
        assert created.status_code == 201, created.text
        del http.headers["Cookie"]
        http.headers["Authorization"] = f"Bearer {created.json()['key']}"
        listing = f"/v1/workspaces/{workspace}/conversations?limit=20"
        await http.get(listing)  # warm-up (and the once-a-minute last_used_at write)
        # app_authenticate_api_key (present the key's hash to its RLS policy, read key + creator,
        # clear the hash, bind the one workspace's membership), then the list itself.
        assert await count(http, statements, listing) == 2, statements

    run_signed_in(db, monkeypatch, scenario)


def test_the_floor_reads_the_same_user_as_v1_me(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make bench-ceiling``'s floor (``load/reference_app.py``, ``/floor/me``) runs the app's
    own authentication statements: it must find the signed-in user, or the floor would be
    measuring a 401."""

    async def scenario(http: httpx.AsyncClient, statements: list[str]) -> None:
        me = (await http.get("/v1/me")).json()
        floor_app = reference_app.create_app()
        async with floor_app.router.lifespan_context(floor_app):
            transport = httpx.ASGITransport(app=floor_app)
            async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as floor:
                found = await floor.get("/floor/me", headers={"Cookie": http.headers["Cookie"]})
                assert found.status_code == 200, found.text
                assert (found.json()["id"], found.json()["email"]) == (me["id"], me["email"])
                forged = await floor.get("/floor/me", headers={"Cookie": f"{COOKIE}=forged"})
                assert forged.status_code == 401

    run_signed_in(db, monkeypatch, scenario)


def test_a_json_chat_turn_costs_few_statements(
    db: Database, stub: Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON turn with history: authentication, one transaction that admits and reserves, one
    that settles and answers (docs/performance.md, "Round 3: the chat turn")."""

    async def scenario(http: httpx.AsyncClient, statements: list[str]) -> None:
        workspace = (await http.post("/v1/workspaces", json={"name": "Turns"})).json()["id"]
        bot = await http.post(
            f"/v1/workspaces/{workspace}/bots",
            json={"name": "Helper", "system_prompt": "Be brief.", "model": "stub-small"},
        )
        assert bot.status_code == 201, bot.text
        started = await http.post(f"/v1/bots/{bot.json()['id']}/conversations", json={})
        assert started.status_code == 201, started.text
        url = f"/v1/conversations/{started.json()['id']}/messages"
        json_mode = {"Accept": "application/json"}
        for n in range(3):  # a history to send, and a warm-up
            sent = await http.post(url, json={"content": f"hello {n}"}, headers=json_mode)
            assert sent.status_code == 200, sent.text
        statements.clear()
        sent = await http.post(url, json={"content": "once more"}, headers=json_mode)
        assert sent.status_code == 200, sent.text
        assert sent.json()["message"]["status"] == "complete"
        counted = [s for s in statements if s != BEGIN]
        transactions = statements.count(BEGIN)
        assert (len(counted), transactions) == (TURN_STATEMENTS, TURN_TRANSACTIONS), statements

    built: dict[str, list[object]] = {}  # held, so no id is reused

    def record_built(*args: Any) -> None:
        """The statement object each of the turn's writes ran (Round 4: built once)."""
        for cte in ("admitted AS", "ended AS", "taken AS"):
            if cte in args[2]:
                built.setdefault(cte, []).append(args[4].invoked_statement)

    event.listen(Engine, "before_cursor_execute", record_built)
    try:
        run_signed_in(db, monkeypatch, scenario, OPENAI_BASE_URL=stub.base_url)
    finally:
        event.remove(Engine, "before_cursor_execute", record_built)
    # Four turns, and each of the admission, the ending and the settlement was one object
    # built once, not an expression (and a compiled-cache key) built per turn.
    assert {cte: len({id(s) for s in ran}) for cte, ran in built.items()} == {
        "admitted AS": 1,
        "ended AS": 1,
        "taken AS": 1,
    }
