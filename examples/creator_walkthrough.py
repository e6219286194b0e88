"""The creator flow end to end, as a client program would drive it (httpx + httpx-sse).

Sign in, create a workspace and a bot, start a conversation and stream an answer (SSE), upload a
file, create an API key and use it, and receive a signed webhook on a local receiver that checks
the signature with ``standardwebhooks`` before believing a byte of it.

Run it against ``make run`` (development: plain http on 127.0.0.1, where the session cookie is
``lp_session``; README "Quick start"), with a user from ``make create-user``::

    export LAUNCHPROOF_PASSWORD='…'   # never an argument
    .venv/bin/python examples/creator_walkthrough.py --email you@example.com

The webhook step needs the worker (``make run`` starts one) and a loopback receiver allowed by
``OUTBOUND_DEV_ALLOWED_ADDRESSES`` (``make run`` allows 127.0.0.1). ``make test`` runs this file
against a development server (tests/test_examples.py), so it cannot rot. Exit status 0 means
every step worked.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from httpx_sse import connect_sse
from standardwebhooks import Webhook, WebhookVerificationError


def check(response: httpx.Response, status: int) -> Any:
    """The JSON body, or exit with the problem+json the API answered."""
    if response.status_code != status:
        sys.exit(f"{response.request.method} {response.request.url.path}: {response.text}")
    return response.json() if response.content else None


@contextmanager
def webhook_receiver(secret_holder: dict[str, str]) -> Iterator[tuple[str, queue.Queue[Any]]]:
    """A receiver on 127.0.0.1 that verifies every delivery and queues the verified payloads."""
    verified: queue.Queue[Any] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                # Over the raw bytes, with the id and timestamp headers (replay window: 5 min).
                payload = Webhook(secret_holder["secret"]).verify(body, dict(self.headers))
            except (KeyError, WebhookVerificationError):
                self.send_response(401)
                self.end_headers()
                return
            verified.put(payload)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", verified
    finally:
        server.shutdown()
        server.server_close()


def stream_answer(client: httpx.Client, conversation_id: str, content: str) -> str:
    """Send a message and print the answer as it streams: ``delta`` events, then ``done``."""
    url = f"/v1/conversations/{conversation_id}/messages"
    text: list[str] = []
    with connect_sse(client, "POST", url, json={"content": content}) as events:
        if events.response.status_code != 200:
            events.response.read()
            sys.exit(f"send: {events.response.text}")
        for event in events.iter_sse():
            data = json.loads(event.data) if event.data else {}
            if event.event == "delta":
                text.append(data["text"])
                print(data["text"], end="", flush=True)
            elif event.event == "done":
                print()
                return "".join(text)
            elif event.event == "error":
                sys.exit(f"turn failed: {data}")
    sys.exit("the stream ended without a done event")


def walkthrough(base_url: str, email: str, password: str, webhook_timeout: float) -> None:
    # Origin: unsafe requests riding on the session cookie must name an allowed origin (CSRF).
    session = httpx.Client(base_url=base_url, headers={"Origin": base_url}, timeout=60)
    with session:
        me = check(session.post("/v1/auth/login", json={"email": email, "password": password}), 200)
        print(f"signed in as {me['email']}")
        check(session.get("/v1/me"), 200)  # the cookie came back: still signed in

        workspace = check(session.post("/v1/workspaces", json={"name": "Walkthrough"}), 201)
        ws = workspace["id"]
        bot = check(
            session.post(
                f"/v1/workspaces/{ws}/bots",
                json={
                    "name": "Helper",
                    "system_prompt": "You help a small creator studio.",
                    "model": "stub-small",
                    "max_output_tokens": 256,
                },
            ),
            201,
        )
        print(f"workspace {ws}, bot {bot['id']}")

        secret: dict[str, str] = {}
        with webhook_receiver(secret) as (receiver_url, verified):
            endpoint = check(
                session.post(
                    f"/v1/workspaces/{ws}/webhook-endpoints",
                    json={"url": receiver_url, "event_types": ["conversation.created"]},
                ),
                201,
            )
            secret["secret"] = endpoint["secret"]  # shown once: keep it in a secret store

            conversation = check(session.post(f"/v1/bots/{bot['id']}/conversations", json={}), 201)
            print("answer: ", end="")
            answer = stream_answer(session, conversation["id"], "Hello! What can you do?")
            assert answer, "empty answer"

            try:
                event = verified.get(timeout=webhook_timeout)
            except queue.Empty:
                sys.exit("no verified webhook arrived (is the worker running?)")
            data = event["data"]
            print(f"webhook verified: {event['type']} for conversation {data['conversation_id']}")
            check(session.delete(f"/v1/webhook-endpoints/{endpoint['id']}"), 204)

        uploaded = check(
            session.post(
                f"/v1/workspaces/{ws}/files",
                files={"file": ("notes.txt", b"Opening hours: 9 to 5.\n", "text/plain")},
            ),
            201,
        )
        print(f"uploaded {uploaded['id']} ({uploaded['status']})")

        key = check(
            session.post(
                f"/v1/workspaces/{ws}/api-keys",
                json={"name": "walkthrough", "scopes": ["bots:read", "conversations:write"]},
            ),
            201,
        )
        # An API key needs no cookie and no Origin: automation, not a browser.
        with httpx.Client(base_url=base_url, timeout=60) as automation:
            automation.headers["Authorization"] = f"Bearer {key['key']}"
            bots = check(automation.get(f"/v1/workspaces/{ws}/bots"), 200)
            print(f"API key lists {len(bots['items'])} bot(s)")
        check(session.delete(f"/v1/workspaces/{ws}/api-keys/{key['id']}"), 204)
        check(session.post("/v1/auth/logout"), 204)
        print("done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--email", required=True)
    parser.add_argument("--webhook-timeout", type=float, default=30.0)
    args = parser.parse_args()
    password = os.environ.get("LAUNCHPROOF_PASSWORD")
    if not password:
        sys.exit("set LAUNCHPROOF_PASSWORD (never a command-line argument)")
    walkthrough(args.base_url.rstrip("/"), args.email, password, args.webhook_timeout)


if __name__ == "__main__":
    main()
