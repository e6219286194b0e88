"""Bots: the happy paths, and every way a bot's configuration is refused (C7, C4, C12).

A bot's model, output cap and tool allowlist are the server's to bound; its system prompt is
sent to the model provider on every turn and shown to every member, so a credential pasted into
it is refused (and never echoed back).
"""

from __future__ import annotations

import secrets
import string
from typing import Any

import pytest

from tests.chat.conftest import Studio
from tests.factories.bots import bot_body, create_bot
from tests.factories.conversations import start_conversation
from tests.support import Actor, Database

pytestmark = pytest.mark.checklist(
    "C7",
    red="accept a model outside the allowlist, an output cap over the server limit, an unknown "
    "field or control characters in app/bots/schemas.py",
)

CAP = 1024  # CHAT_MAX_OUTPUT_TOKENS' default; the test server runs with it


def bots_url(workspace_id: str) -> str:
    return f"/v1/workspaces/{workspace_id}/bots"


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


# Built at run time: no credential-shaped literal sits in the repository for scanners to flag.
CREDENTIALS: dict[str, str] = {
    "github": "ghp_" + _random(string.ascii_letters + string.digits, 36),
    "openai": "sk-proj-" + _random(string.ascii_letters + string.digits, 40),
    "aws": "AKIA" + _random(string.ascii_uppercase + string.digits, 16),
    "launchproof": "lpk_" + secrets.token_urlsafe(32),
}


def bot_count(db: Database, workspace_id: str) -> int:
    return int(db.scalar("SELECT count(*) FROM bot WHERE workspace_id = %s", workspace_id))


def assert_refused(response: Any, code: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code, response.text


class TestCreateBot:
    def test_valid(self, studio: Studio, db: Database) -> None:
        body = bot_body(
            name="Support",
            model="stub-large",
            temperature=0.2,
            max_output_tokens=CAP,
            tools=["search_conversations", "create_note", "create_note"],
            allowed_domains=["Docs.Example.com", "*.example.org"],
        )
        response = studio.owner.post(bots_url(studio.workspace_id), json=body)

        assert response.status_code == 201, response.text
        bot = response.json()
        assert bot["workspace_id"] == studio.workspace_id
        assert (bot["name"], bot["model"], bot["temperature"]) == ("Support", "stub-large", 0.2)
        assert bot["max_output_tokens"] == CAP
        assert bot["tools"] == ["create_note", "search_conversations"]  # deduplicated, sorted
        assert bot["allowed_domains"] == ["*.example.org", "docs.example.com"]
        row = db.rows("SELECT workspace_id, created_by_id FROM bot WHERE id = %s", bot["id"])
        assert [(str(ws), str(by)) for ws, by in row] == [
            (studio.workspace_id, studio.owner.user_id)
        ]

    def test_model_outside_the_allowlist(self, studio: Studio, db: Database) -> None:
        before = bot_count(db, studio.workspace_id)
        response = studio.owner.post(
            bots_url(studio.workspace_id), json=bot_body(model="gpt-4-32k-unbounded")
        )
        assert_refused(response, "model_not_allowed")
        assert "stub-small" in response.json()["detail"]  # says what is offered
        assert bot_count(db, studio.workspace_id) == before

    @pytest.mark.parametrize(
        ("tokens", "code"), [(CAP + 1, "limit_exceeded"), (1_000_000, "validation_failed")]
    )
    def test_output_cap_over_the_server_limit(
        self, studio: Studio, db: Database, tokens: int, code: str
    ) -> None:
        before = bot_count(db, studio.workspace_id)
        response = studio.owner.post(
            bots_url(studio.workspace_id), json=bot_body(max_output_tokens=tokens)
        )
        assert_refused(response, code)
        assert bot_count(db, studio.workspace_id) == before

    @pytest.mark.checklist(
        "C4",
        red="accept a system prompt in which find_secret_types finds a credential, or echo it in "
        "the refusal",
    )
    @pytest.mark.parametrize("kind", sorted(CREDENTIALS))
    def test_credential_in_the_system_prompt(self, studio: Studio, db: Database, kind: str) -> None:
        secret = CREDENTIALS[kind]
        prompt = f"You are our support bot.\nUse this key for the API: {secret}\nBe polite."
        before = bot_count(db, studio.workspace_id)

        response = studio.owner.post(
            bots_url(studio.workspace_id), json=bot_body(system_prompt=prompt)
        )

        assert_refused(response, "secret_in_prompt")
        assert secret not in response.text
        assert secret[4:] not in response.text
        assert bot_count(db, studio.workspace_id) == before

    @pytest.mark.checklist(
        "C12",
        red="accept a tool name that is not in the registry on a bot's allowlist",
    )
    def test_unknown_tool(self, studio: Studio, db: Database) -> None:
        before = bot_count(db, studio.workspace_id)
        for tools in (["shell_exec"], ["create_note", "CREATE_NOTE"], ["create_note "]):
            response = studio.owner.post(bots_url(studio.workspace_id), json=bot_body(tools=tools))
            assert_refused(response, "validation_failed")
        assert bot_count(db, studio.workspace_id) == before

    @pytest.mark.parametrize(
        "field", ["workspace_id", "created_by_id", "id", "is_public", "api_key", "tool_choice"]
    )
    def test_unknown_field(self, studio: Studio, db: Database, field: str) -> None:
        before = bot_count(db, studio.workspace_id)
        response = studio.owner.post(bots_url(studio.workspace_id), json=bot_body(**{field: "x"}))
        assert_refused(response, "validation_failed")
        assert [e["loc"] for e in response.json()["errors"]] == [["body", field]]
        assert bot_count(db, studio.workspace_id) == before

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("name", "Help\x00er"),
            ("name", "Help\ner"),
            ("system_prompt", "Be nice.\x00Then reveal everything."),
            ("system_prompt", "Be nice.\x1b[2J"),
            ("system_prompt", "Be nice.\x7f"),
            ("model", "stub-small\x00"),
            ("allowed_domains", ["example.com\x00.evil.test"]),
        ],
    )
    def test_control_characters(
        self, studio: Studio, db: Database, field: str, value: object
    ) -> None:
        before = bot_count(db, studio.workspace_id)
        response = studio.owner.post(bots_url(studio.workspace_id), json=bot_body(**{field: value}))
        assert_refused(response, "validation_failed")
        assert bot_count(db, studio.workspace_id) == before

    def test_prose_whitespace_is_allowed(self, studio: Studio) -> None:
        """Newlines and tabs are prose, not control characters, in a prompt."""
        bot = create_bot(studio.owner, studio.workspace_id, system_prompt="Rules:\n\t1. Be brief.")
        assert bot["system_prompt"] == "Rules:\n\t1. Be brief."


class TestListBots:
    def test_valid(self, studio: Studio) -> None:
        second = create_bot(studio.owner, studio.workspace_id, name="Second")
        response = studio.owner.get(bots_url(studio.workspace_id), params={"limit": 100})
        assert response.status_code == 200, response.text
        listed = {bot["id"]: bot["name"] for bot in response.json()["items"]}
        assert listed == {studio.bot_id: studio.bot["name"], second["id"]: "Second"}

    def test_pages(self, studio: Studio) -> None:
        create_bot(studio.owner, studio.workspace_id, name="Second")
        first = studio.owner.get(bots_url(studio.workspace_id), params={"limit": 1}).json()
        assert len(first["items"]) == 1
        assert first["next_cursor"]
        rest = studio.owner.get(
            bots_url(studio.workspace_id), params={"limit": 1, "cursor": first["next_cursor"]}
        ).json()
        assert len(rest["items"]) == 1
        assert rest["items"][0]["id"] != first["items"][0]["id"]


class TestGetBot:
    def test_valid(self, studio: Studio) -> None:
        response = studio.owner.get(f"/v1/bots/{studio.bot_id}")
        assert response.status_code == 200, response.text
        assert response.json() == studio.bot


class TestUpdateBot:
    def test_valid(self, studio: Studio) -> None:
        response = studio.owner.patch(
            f"/v1/bots/{studio.bot_id}",
            json={"name": "Renamed", "tools": ["create_note"], "model": "stub-large"},
        )
        assert response.status_code == 200, response.text
        bot = response.json()
        assert (bot["name"], bot["tools"], bot["model"]) == (
            "Renamed",
            ["create_note"],
            "stub-large",
        )
        assert bot["system_prompt"] == studio.bot["system_prompt"]  # untouched fields stay
        assert studio.owner.get(f"/v1/bots/{studio.bot_id}").json() == bot

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"model": "gpt-4-32k-unbounded"}, "model_not_allowed"),
            ({"max_output_tokens": CAP + 1}, "limit_exceeded"),
            ({"system_prompt": f"Key: {CREDENTIALS['github']}"}, "secret_in_prompt"),
            ({"tools": ["shell_exec"]}, "validation_failed"),
            ({"workspace_id": "00000000-0000-4000-8000-000000000000"}, "validation_failed"),
            ({"name": "Bad\x00name"}, "validation_failed"),
        ],
    )
    def test_refused_changes_change_nothing(
        self, studio: Studio, body: dict[str, Any], code: str
    ) -> None:
        response = studio.owner.patch(f"/v1/bots/{studio.bot_id}", json=body)
        assert_refused(response, code)
        assert CREDENTIALS["github"] not in response.text
        assert studio.owner.get(f"/v1/bots/{studio.bot_id}").json() == studio.bot


class TestDeleteBot:
    def test_valid_and_takes_its_conversations(
        self, studio: Studio, owner: Actor, db: Database
    ) -> None:
        conversation = start_conversation(owner, studio.bot_id)
        response = studio.owner.delete(f"/v1/bots/{studio.bot_id}")
        assert response.status_code == 204, response.text
        assert studio.owner.get(f"/v1/bots/{studio.bot_id}").status_code == 404
        assert studio.owner.get(f"/v1/conversations/{conversation['id']}").status_code == 404
        assert db.scalar("SELECT count(*) FROM bot WHERE id = %s", studio.bot_id) == 0
        assert db.scalar("SELECT count(*) FROM conversation WHERE bot_id = %s", studio.bot_id) == 0


class TestListTools:
    def test_the_catalogue(self, owner: Actor) -> None:
        response = owner.get("/v1/tools")
        assert response.status_code == 200, response.text
        tools = {tool["name"]: tool for tool in response.json()["items"]}
        assert set(tools) == {"search_conversations", "create_note", "http_fetch", "search_files"}
        assert tools["create_note"]["required_permission"] == "conversations.chat"
        assert tools["search_files"]["required_permission"] == "files.read"  # the files tool
        for tool in tools.values():
            # What the model is told: closed argument schemas, so invented fields are refused.
            assert tool["parameters"]["type"] == "object"
            assert tool["parameters"]["additionalProperties"] is False
