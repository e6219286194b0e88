"""A whole user journey with planted values, then: none of them anywhere in the server log.

The server is a dedicated one (its own log file, INFO level) so the log holds this scenario only.
The audit trail written during the journey is checked too.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.factories.bots import create_bot
from tests.factories.conversations import send_ok, start_conversation
from tests.factories.files import pdf_bytes, upload
from tests.factories.users import login
from tests.factories.workspaces import create_api_key, create_workspace
from tests.servers import ServerFactory
from tests.support import Anonymous, Database, Server, Stub, base_env

pytestmark = pytest.mark.checklist(
    "C9",
    red="log a request body, message content, password, token, cookie or e-mail address (e.g. "
    "drop redact_event from the structlog chain), or write one into an audit event",
)

ACCESS_EVENT = "request handled"
WEBHOOK_SECRET_RAW = base64.b64encode(f"plantedhooksecret{secrets.token_hex(12)}".encode()).decode()
WEBHOOK_SECRET = "whsec_" + WEBHOOK_SECRET_RAW
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def planted(label: str) -> str:
    return f"planted{label}{secrets.token_hex(8)}"


@dataclass
class Journey:
    server: Server
    planted: dict[str, str]
    request_ids: list[str]
    statuses: set[int]


@pytest.fixture(scope="module")
def journey(
    server_factory: ServerFactory,
    db: Database,
    stub: Stub,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Journey]:
    tmp = tmp_path_factory.mktemp("observability")
    log_path: Path = tmp / "server.log"
    # Uploads land in a private folder; the inbound source's secret is itself a planted value.
    env = base_env(
        db,
        OPENAI_BASE_URL=stub.base_url,
        STORAGE_LOCAL_DIR=str(tmp / "files"),
        WEBHOOK_INBOUND_SECRETS=f"scenario={WEBHOOK_SECRET}",
    )
    with server_factory(env, log_path=log_path) as server:
        yield _run(server, db)


def _run(server: Server, db: Database) -> Journey:
    values: dict[str, str] = {}
    request_ids: list[str] = []
    statuses: set[int] = set()
    anon = Anonymous(server)

    def seen(response: httpx.Response, *expected: int) -> httpx.Response:
        assert response.status_code in expected, response.text
        request_ids.append(response.headers["x-request-id"])
        statuses.add(response.status_code)
        return response

    email = values["email"] = f"{planted('mail')}@example.com"
    password = values["password"] = "pw-" + planted("pass")
    seen(anon.post("/v1/auth/signup", json={"email": email, "password": password}), 202)
    values["verify_token"] = db.token_from_mail(email, "verify_email")
    seen(anon.post("/v1/auth/verify-email", json={"token": values["verify_token"]}), 202)

    wrong = values["wrong_password"] = "pw-" + planted("wrong")
    seen(anon.post("/v1/auth/login", json={"email": email, "password": wrong}), 401)

    seen(anon.post("/v1/auth/password-reset", json={"email": email}), 202)
    values["reset_token"] = db.token_from_mail(email, "password_reset")
    new_password = values["new_password"] = "pw-" + planted("newpass")
    confirm = {"token": values["reset_token"], "new_password": new_password}
    seen(anon.post("/v1/auth/password-reset/confirm", json=confirm), 200, 202, 204)

    owner = login(server, email, new_password)
    values["session_cookie"] = owner.cookie or ""
    workspace_id = create_workspace(owner, name=planted("workspace"))
    key = create_api_key(owner, workspace_id, ["workspace:read"])
    values["api_key"] = str(key["key"])

    prompt_marker = values["prompt"] = planted("prompt")
    bot = create_bot(
        owner,
        workspace_id,
        system_prompt=f"You help the studio. Marker {prompt_marker}.",
        tools=["create_note"],
    )
    conversation_id = str(start_conversation(owner, bot["id"])["id"])
    chat_marker = values["chat"] = planted("chat")
    note_body = values["note_body"] = planted("notebody")
    values["personal_email"] = f"{planted('friend')}@example.org"
    values["secret_in_chat"] = "sk-" + planted("openai") + "abcdefghij"
    note = json.dumps({"title": "Scenario", "body": note_body})
    send_ok(
        owner,
        conversation_id,
        f"{chat_marker} my friend is {values['personal_email']}, key "
        f"{values['secret_in_chat']} [[tool:create_note {note}]]",
    )

    # The API key in use, a planted cookie and a planted (invalid) bearer credential.
    bearer = {"Authorization": f"Bearer {values['api_key']}"}
    seen(httpx.get(f"{server.url}/v1/workspaces/{workspace_id}", headers=bearer), 200)
    values["cookie"] = planted("cookie")
    values["authorization"] = planted("authz")
    forged = {
        "Cookie": f"lp_other={values['cookie']}",
        "Authorization": f"Bearer {values['authorization']}",
    }
    seen(anon.get("/v1/workspaces", headers=forged), 401)

    # An upload: the file name and the contents are private.
    values["file_name"] = planted("filename")
    values["file_text"] = planted("filetext")
    uploaded = upload(
        owner, workspace_id, values["file_name"] + ".pdf", pdf_bytes(values["file_text"])
    )
    seen(uploaded, 201, 202)

    # An inbound webhook: verified (its payload is private) and forged (its signature is not ours).
    values["webhook_secret"] = WEBHOOK_SECRET_RAW
    values["webhook_payload"] = planted("hookdata")
    body = json.dumps({"type": "order.paid", "data": {"note": values["webhook_payload"]}})
    msg_id, now = f"msg_{planted('hookid')}", datetime.now(UTC)
    signature = Webhook(WEBHOOK_SECRET).sign(msg_id, now, body)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }
    hook = f"{server.url}/v1/webhooks/inbound/scenario"
    seen(httpx.post(hook, content=body, headers=headers, timeout=30), 202)
    values["webhook_signature"] = signature.removeprefix("v1,")
    values["forged_signature"] = base64.b64encode(planted("forged").encode()).decode()
    forged_headers = {**headers, "webhook-id": msg_id + "x"}
    forged_headers["webhook-signature"] = "v1," + values["forged_signature"]
    seen(httpx.post(hook, content=body, headers=forged_headers, timeout=30), 401)

    values["query"] = planted("query")
    seen(owner.get(f"/v1/workspaces?search={values['query']}"), 200)

    values["malformed_password"] = planted("malformed")
    malformed = b'{"email": "a@example.com", "password": "' + values["malformed_password"].encode()
    headers = {"Content-Type": "application/json"}
    seen(anon.post("/v1/auth/login", content=malformed, headers=headers), 400, 422)

    # A request uvicorn itself refuses (and logs): a header name with a space in it.
    values["raw_header"] = planted("rawheader")
    host, port = server.url.removeprefix("http://").split(":")
    raw = f"GET /v1/healthz?q={values['raw_header']} HTTP/1.1\r\nHost: {host}\r\n"
    raw += f"Bad Header: {values['raw_header']}\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(raw.encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 400")
    return Journey(server=server, planted=values, request_ids=request_ids, statuses=statuses)


def _access_lines(text: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == ACCESS_EVENT]


class TestServerLog:
    def test_no_planted_value_anywhere(self, journey: Journey) -> None:
        text = journey.server.log_text()
        assert text.strip(), "the server wrote no log at all"
        leaked = {name: value for name, value in journey.planted.items() if value in text}
        assert leaked == {}

    def test_every_line_is_json(self, journey: Journey) -> None:
        for line in journey.server.log_text().splitlines():
            if line.strip():
                assert isinstance(json.loads(line), dict), line

    def test_access_lines_carry_templates_ids_and_statuses(self, journey: Journey) -> None:
        lines = _access_lines(journey.server.log_text())
        by_id = {line["request_id"]: line for line in lines}
        for request_id in journey.request_ids:
            assert request_id in by_id, request_id
        assert journey.statuses <= {line["status"] for line in lines}
        routes = {line["route"] for line in lines}
        assert "/v1/conversations/{conversation_id}/messages" in routes
        assert "/v1/workspaces/{workspace_id}" in routes
        for line in lines:
            assert not UUID.search(line["route"]), line
            assert "?" not in line["route"], line
            assert isinstance(line["duration_ms"], float | int)
            assert line["client_ip"] == "127.0.0.1"
            assert line["method"] in {"GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"}

    def test_access_lines_carry_principal_ids(self, journey: Journey) -> None:
        lines = _access_lines(journey.server.log_text())
        sends = [line for line in lines if line["route"].endswith("/messages")]
        assert sends
        assert all(UUID.fullmatch(line["user_id"]) for line in sends)
        assert {line.get("principal_kind") for line in sends} == {"session"}
        keyed = [line for line in lines if line.get("principal_kind") == "api_key"]
        assert keyed, "the API key request logged no api_key_id"
        assert all(UUID.fullmatch(line["api_key_id"]) for line in keyed), keyed

    def test_server_records_use_the_same_renderer(self, journey: Journey) -> None:
        lines = [json.loads(line) for line in journey.server.log_text().splitlines() if line]
        invalid = [line for line in lines if line.get("logger") == "uvicorn.error"]
        assert invalid, "uvicorn's own warning is missing or not JSON"
        assert all(line["level"] == "warning" for line in invalid), invalid


def test_audit_trail_holds_no_planted_value(journey: Journey, db: Database) -> None:
    rows = db.rows("SELECT row_to_json(a)::text FROM audit_event a")
    assert rows, "the scenario wrote no audit event"
    text = "\n".join(str(row[0]) for row in rows)
    leaked = {name: value for name, value in journey.planted.items() if value in text}
    assert leaked == {}
