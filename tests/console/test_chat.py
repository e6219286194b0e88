"""Workspace, bot, a streamed chat with a tool call and an attached file, hostile content
everywhere (C3, C5).

The bot's name and the model's answer are XSS payloads (the stub is scripted to answer one and
to call a tool first); they must reach the screen as text and never run: no flag set, no
dialog, no CSP or Trusted Types violation, nothing reported to the server.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.console.browser import XSS, Page, Watched, sign_in
from tests.console.conftest import csp_reports_counted, screenshot
from tests.factories.users import login, signup
from tests.support import Database, Server, Stub


def script(stub: Stub, session: str, responses: list[dict[str, object]]) -> None:
    """Queue the stub's answers for the session named in the bot's prompt."""
    httpx.post(
        stub.url + "/_stub/script", params={"session": session}, json={"responses": responses}
    ).raise_for_status()


def create_bot(page: Page, name: str, prompt: str) -> None:
    page.fill("#bot-form input[type=text]", name)
    page.fill("#bot-form textarea", prompt)
    page.select_option("#bot-form select", "stub-small")
    page.check("#bot-form input[value=create_note]")
    page.click("#bot-form button[type=submit]")
    page.wait_for_selector(".bot-name")


@pytest.mark.checklist(
    "C5", red="model output or a bot name rendered as HTML (innerHTML, and the CSP loosened)"
)
def test_create_a_bot_and_chat_with_streaming_and_tool_calls(
    tab: Watched, console: Server, db: Database, stub: Stub
) -> None:
    reported = csp_reports_counted(console)
    email, password = signup(console, db)
    page = tab.page("/#/signin")
    sign_in(page, email, password)
    page.fill("#workspace-form input", "Studio " + XSS)
    page.click("#workspace-form button[type=submit]")
    page.wait_for_selector("#tab-bots")

    session = "console-" + secrets.token_hex(4)
    bot_name = "Helper " + XSS
    create_bot(page, bot_name, f"You help. [[session:{session}]]")
    assert page.text_content(".bot-name") == bot_name  # shown, as text
    screenshot(page, "bots")

    owner = login(console, email, password)
    workspace_id = owner.get("/v1/workspaces").json()["items"][0]["id"]
    marker = "attached-" + secrets.token_hex(4)
    uploaded = owner.post(
        f"/v1/workspaces/{workspace_id}/files",
        files={"file": ("brief.txt", f"The word is {marker}.".encode(), "text/plain")},
    )
    assert uploaded.status_code == 201, uploaded.text

    answer = "Done. " + XSS + " **not markdown**"
    note = {"title": "From chat", "body": XSS}
    script(
        stub,
        session,
        [{"tool_calls": [{"name": "create_note", "arguments": note}]}, {"text": answer}],
    )
    page.click("text=Chat")
    page.wait_for_selector("#chat-form")
    assert page.text_content("#chat-bot") == bot_name
    page.fill("#chat-input", "Please file a note " + XSS)
    page.select_option("#chat-files", uploaded.json()["id"])  # attach the (clean) file
    page.click("#chat-form button[type=submit]")
    done = page.wait_for_selector(".msg.assistant[data-status=complete]")
    assert done.query_selector(".content").text_content() == answer  # type: ignore[union-attr]
    tool = page.text_content(".tool-call summary") or ""
    assert tool.startswith("tool create_note: ")
    assert XSS in (page.text_content(".tool-call pre") or "").replace('\\"', '"')
    screenshot(page, "chat")
    sent = [r["body"] for r in stub.requests() if r["session"] == session]
    assert marker in str(sent[0]["messages"])  # the attachment reached the model

    page.reload()  # the stored conversation renders the same way, listed with the bot's others
    page.wait_for_selector(".msg.assistant")
    assert page.locator(".conversations a.active").count() == 1
    roles = page.locator(".msg .role").all_text_contents()
    assert roles == ["user", "assistant"]  # oldest first
    assert page.text_content(".msg.assistant .content") == answer
    assert page.query_selector("img") is None
    assert page.query_selector("main script") is None
    tab.assert_clean(page)
    assert csp_reports_counted(console) == reported
    stored = owner.get("/v1/workspaces").json()["items"][0]
    assert stored["name"] == "Studio " + XSS  # stored verbatim; inert only because rendered so
