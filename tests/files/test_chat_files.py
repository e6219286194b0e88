"""C3 for files: the bot reads only clean files of its own workspace, and a deleted file leaves
every future context. Real server, worker, clamd and model stub; the stub records each prompt."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

import pytest

from tests.chat.helpers import marker, new_session, recorded
from tests.factories.bots import create_bot
from tests.factories.conversations import JSON, start_conversation
from tests.factories.files import docx_bytes, upload_ok, wait_for_scan
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.support import Actor, Database, Server, Stub

pytestmark = pytest.mark.checklist(
    "C3",
    "C8",
    red="drop the workspace filter or the clean-scan condition from the attach and search_files "
    "queries (app/files), or keep a deleted file in the bot's context",
)


def send(actor: Actor, conversation_id: str, content: str, file_ids: list[str]) -> Any:
    return actor.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"content": content, "file_ids": file_ids},
        headers=JSON,
    )


def prompt_text(stub: Stub, session: str) -> list[str]:
    """Every recorded completion request of the session, flattened to one string each."""
    return [json.dumps(body["messages"]) for body in recorded(stub, session)]


def clean_upload(actor: Actor, ws: str, name: str, data: bytes) -> str:
    created = upload_ok(actor, ws, name, data)
    assert wait_for_scan(actor, created["id"])["status"] == "clean"
    return str(created["id"])


@pytest.fixture
def alice(files_server: Server, db: Database) -> tuple[Actor, str, str]:
    actor = create_actor(files_server, db, "alice")
    ws = create_workspace(actor)
    bot = create_bot(actor, ws, tools=["search_files"])
    return actor, ws, str(bot["id"])


@pytest.fixture
def bob(files_server: Server, db: Database) -> tuple[Actor, str]:
    actor = create_actor(files_server, db, "bob")
    return actor, create_workspace(actor)


def messages_in(db: Database, conversation_id: str) -> int:
    return int(
        db.scalar("SELECT count(*) FROM message WHERE conversation_id = %s", conversation_id)
    )


def test_an_attached_file_is_read_until_it_is_deleted(
    alice: tuple[Actor, str, str], stub: Stub
) -> None:
    actor, ws, bot_id = alice
    secret = f"launch-code-{secrets.token_hex(4)}"
    file_id = clean_upload(actor, ws, "plan.docx", docx_bytes([f"The code is {secret}."]))
    conversation = start_conversation(actor, bot_id)["id"]
    session = new_session()

    first = send(actor, conversation, f"Summarise. {marker(session)}", [file_id])
    assert first.status_code == 200, first.text
    assert secret in prompt_text(stub, session)[-1]  # the docx text reached the prompt
    # The next turn sends it again, as part of the earlier message in the history (looked up
    # because the history read flags that message as having attachments).
    later = send(actor, conversation, f"Anything else? {marker(session)}", [])
    assert later.status_code == 200, later.text
    earlier = [m["content"] for m in recorded(stub, session)[-1]["messages"] if m["role"] == "user"]
    assert "Summarise." in earlier[0]
    assert secret in earlier[0]

    assert actor.delete(f"/v1/files/{file_id}").status_code == 204
    again = send(actor, conversation, f"And now? {marker(session)}", [])
    assert again.status_code == 200, again.text
    latest = recorded(stub, session)[-1]["messages"]
    users = [m["content"] for m in latest if m["role"] == "user"]
    assert any("Summarise." in text for text in users)  # the earlier message is still history...
    assert not any(secret in text or "[Attached file" in text for text in users)  # ...not the file


def test_files_of_another_workspace_cannot_be_attached(
    alice: tuple[Actor, str, str], bob: tuple[Actor, str], db: Database
) -> None:
    actor, _ws, bot_id = alice
    other, other_ws = bob
    foreign = clean_upload(other, other_ws, "bob.txt", b"bob's private notes\n")
    conversation = start_conversation(actor, bot_id)["id"]

    for file_ids in ([foreign], [str(uuid.uuid4())]):
        response = send(actor, conversation, "Read this.", file_ids)
        assert response.status_code == 404, response.text
    # Alice's own workspace does not help: Bob owns the file, not the id's holder.
    assert messages_in(db, conversation) == 0
    assert db.scalar("SELECT count(*) FROM message_file WHERE file_id = %s", foreign) == 0


def test_own_files_of_another_workspace_stay_out_of_this_bots_context(
    alice: tuple[Actor, str, str], db: Database
) -> None:
    """Alice can read both workspaces (so row-level security admits both): only the attach
    query's workspace filter keeps her other workspace's file out of this bot's context."""
    actor, _ws, bot_id = alice
    elsewhere = create_workspace(actor, "Alice elsewhere")
    own_foreign = clean_upload(actor, elsewhere, "other.txt", b"notes of another workspace\n")
    conversation = start_conversation(actor, bot_id)["id"]

    response = send(actor, conversation, "Read this.", [own_foreign])
    assert response.status_code == 404, response.text
    assert messages_in(db, conversation) == 0
    assert db.scalar("SELECT count(*) FROM message_file WHERE file_id = %s", own_foreign) == 0


def test_files_pending_their_scan_cannot_be_attached(
    alice: tuple[Actor, str, str], db: Database
) -> None:
    actor, ws, bot_id = alice
    # Inserted as pending by the database observer: the worker would clean it within a second.
    created = upload_ok(actor, ws, "fresh.txt", b"fresh\n")
    with db.connect() as conn:
        conn.execute("DELETE FROM file_scan_job WHERE file_id = %s", (created["id"],))
        conn.execute(
            "UPDATE file SET status = 'pending_scan', scan_engine = NULL WHERE id = %s",
            (created["id"],),
        )
    conversation = start_conversation(actor, bot_id)["id"]

    response = send(actor, conversation, "Read this.", [created["id"]])

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "file_not_clean"
    assert messages_in(db, conversation) == 0


def tool_messages_sent(stub: Stub, session: str) -> list[str]:
    """What the tool calls of this session sent back to the model, as the stub recorded it."""
    return [
        m["content"]
        for body in recorded(stub, session)
        for m in body["messages"]
        if m.get("role") == "tool"
    ]


def test_the_file_tool_never_finds_a_file_awaiting_its_scan(
    alice: tuple[Actor, str, str], db: Database, stub: Stub
) -> None:
    actor, ws, bot_id = alice
    word = f"okapi{secrets.token_hex(3)}"
    clean = clean_upload(actor, ws, "clean.md", f"The {word} is checked.\n".encode())
    pending = upload_ok(actor, ws, "pending.md", f"Unscanned {word} payload.\n".encode())["id"]
    with db.connect() as conn:  # held pending, as if clamd had not answered yet
        conn.execute("DELETE FROM file_scan_job WHERE file_id = %s", (pending,))
        conn.execute(
            "UPDATE file SET status = 'pending_scan', scan_engine = NULL WHERE id = %s",
            (pending,),
        )
    conversation = start_conversation(actor, bot_id)["id"]
    session = new_session()
    call = "[[tool:search_files " + json.dumps({"query": word}) + "]]"

    response = send(actor, conversation, f"Find it. {call} {marker(session)}", [])

    assert response.status_code == 200, response.text
    tool_messages = tool_messages_sent(stub, session)
    assert tool_messages, "the tool result was not sent back to the model"
    assert [r["file_id"] for r in json.loads(tool_messages[-1])["results"]] == [clean]
    assert pending not in json.dumps(tool_messages)
    assert "Unscanned" not in json.dumps(tool_messages)


def test_the_file_tool_searches_only_this_workspace(
    alice: tuple[Actor, str, str], bob: tuple[Actor, str], stub: Stub
) -> None:
    actor, ws, bot_id = alice
    other, other_ws = bob
    word = f"zebra{secrets.token_hex(3)}"
    mine = clean_upload(actor, ws, "mine.md", f"# Mine\nThe {word} is ours.\n".encode())
    theirs = clean_upload(other, other_ws, "theirs.md", f"Bob's {word} secret.\n".encode())
    # Alice's own other workspace: readable to her, still not this bot's to search.
    elsewhere = create_workspace(actor, "Alice elsewhere")
    side = clean_upload(actor, elsewhere, "side.md", f"Side {word} notes.\n".encode())
    conversation = start_conversation(actor, bot_id)["id"]
    session = new_session()
    call = "[[tool:search_files " + json.dumps({"query": word}) + "]]"

    response = send(actor, conversation, f"Find it. {call} {marker(session)}", [])

    assert response.status_code == 200, response.text
    assert [c["outcome"] for c in response.json()["tool_calls"]] == ["ok"]
    tool_messages = tool_messages_sent(stub, session)
    assert tool_messages, "the tool result was not sent back to the model"
    results = json.loads(tool_messages[-1])["results"]
    assert [r["file_id"] for r in results] == [mine]
    assert theirs not in json.dumps(tool_messages)
    assert "Bob's" not in json.dumps(tool_messages)
    assert side not in json.dumps(tool_messages)
    assert "Side " not in json.dumps(tool_messages)
