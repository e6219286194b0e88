"""The history sent to the model is bounded by its size, not only by its count (C6).

A dedicated server with ``CHAT_HISTORY_TOKENS=1000`` against the same database and model stub:
three long messages (about 400 estimated tokens each, characters / 4) and short answers, then a
fourth message. The stub records what the model was sent: the newest stored messages that fit in
1,000 tokens, an unbroken run up to the new message; the oldest long message is left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chat.helpers import marker, new_session, recorded, script
from tests.factories.bots import create_bot
from tests.factories.conversations import send, start_conversation
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.servers import ServerFactory
from tests.support import Database, Server, Stub

pytestmark = pytest.mark.checklist(
    "C6",
    red="send the whole stored history (drop newest_within in app/chat/turn.py)",
)

HISTORY_TOKENS = 1000
LONG = 1600  # characters: 400 estimated tokens


@pytest.fixture
def bounded(server: Server, server_factory: ServerFactory, tmp_path: Path) -> Iterator[Server]:
    env = {**server.env, "CHAT_HISTORY_TOKENS": str(HISTORY_TOKENS)}
    with server_factory(env, log_path=tmp_path / "server.log") as srv:
        yield srv


def test_older_messages_past_the_token_budget_are_not_sent(
    bounded: Server, db: Database, stub: Stub
) -> None:
    actor = create_actor(bounded, db, "history")
    workspace_id = create_workspace(actor)
    bot = create_bot(actor, workspace_id)
    conversation = str(start_conversation(actor, bot["id"])["id"])
    session = new_session()
    script(stub, session, [{"text": "ok"}] * 4)
    longs = [f"{n} {marker(session)} ".ljust(LONG, "x") for n in range(3)]
    for text in longs:
        assert send(actor, conversation, text).status_code == 200
    assert send(actor, conversation, f"last {marker(session)}").status_code == 200

    sent = [m["content"] for m in recorded(stub, session)[-1]["messages"]]

    # Newest first: ok, long 2, ok, long 1, ok (803 tokens); long 0 would make it 1,203.
    assert sent[1:] == ["ok", longs[1], "ok", longs[2], "ok", f"last {marker(session)}"]
    assert longs[0] not in sent
