"""The realistic creator-platform mix for Locust (``make load``; docs/performance.md).

Weighted user classes, one per thing a creator platform does all day, against a platform seeded
through the API by ``load.seed_platform`` (``LOAD_PLATFORM_FILE``, written by ``load.locust_run``):

- ``SignIn``: log in (argon2), fetch the session (``/v1/me``), log out;
- ``WorkspaceBrowser``: list workspaces; ``ConversationBrowser``: a 20-item conversation list;
  ``MessageReader``: a conversation's last 20 messages;
- ``Chatter``: send a message and read the whole SSE stream from the model stub;
- ``Uploader``: upload a small file; ``WebhookSource``: a signed incoming webhook. These two
  routes are probed once at start and their class is skipped, with a warning, when the running
  server does not have them (404) or refuses the probe;
- ``Attacker``: one user trickling failed logins for a seeded victim from one address. Its 401s
  and 429s are expected (counted into ``LOAD_ATTACKER_FILE``); it must not slow the others.

Request names ending in ``(model)`` include the model's time and are not held to the p95 budget.
Every simulated creator sends its own ``X-Forwarded-For`` (the load stack trusts 127.0.0.1 as a
proxy), so per-IP budgets apply per simulated client as they would behind Cloudflare.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from locust import FastHttpUser, HttpUser, between, constant_throughput, events, task

from load.gate import say
from load.load_env import ATTACKER_IP, WEBHOOK_SOURCE
from load.seed import COOKIE
from load.seed_platform import Platform, SeedUser

MODEL_SUFFIX = "(model)"
PLATFORM = Platform.load(Path(os.environ["LOAD_PLATFORM_FILE"]))
ORIGIN = PLATFORM.api_url
SOURCE = os.environ.get("LOAD_WEBHOOK_SOURCE", WEBHOOK_SOURCE)
WEBHOOK_SECRET = os.environ.get("LOAD_WEBHOOK_SECRET", "")  # whsec_..., WEBHOOK_INBOUND_SECRETS
UPLOAD_FIELD = "file"  # multipart field of POST /v1/workspaces/{id}/files (API.md; app/files)
ATTACKER_COUNTS: Counter[str] = Counter()
SAMPLES: defaultdict[str, list[float]] = defaultdict(list)


def client_ip() -> str:
    """A private address per simulated client (never the attacker's)."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"  # noqa: S311


def creator() -> SeedUser:
    return random.choice(PLATFORM.users)  # noqa: S311 - load spread, not security


def session_headers(user: SeedUser, ip: str) -> dict[str, str]:
    return {
        "Origin": ORIGIN,
        "Cookie": f"{COOKIE}={user.cookie}",
        "X-Forwarded-For": ip,
        "Accept": "application/json",
    }


def webhook_request() -> tuple[str, str, dict[str, str]]:
    from standardwebhooks.webhooks import Webhook

    body = json.dumps({"type": "load.ping", "data": {"n": secrets.token_hex(4)}})
    msg_id = f"msg_{secrets.token_hex(12)}"
    now = datetime.now(UTC)
    signature = Webhook(WEBHOOK_SECRET).sign(msg_id, now, body)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
        "X-Forwarded-For": client_ip(),
    }
    return f"/v1/webhooks/inbound/{SOURCE}", body, headers


def _probe(kind: str) -> bool:
    """One real request: True when the route exists here and accepts it; else warn and skip."""
    user = PLATFORM.users[0]
    try:
        with httpx.Client(base_url=ORIGIN, timeout=10) as http:
            if kind == "upload":
                response = http.post(
                    f"/v1/workspaces/{user.workspace_id}/files",
                    headers=session_headers(user, user.ip),
                    files={UPLOAD_FIELD: ("probe.txt", b"load probe\n", "text/plain")},
                )
            else:
                if not WEBHOOK_SECRET:
                    say("WARNING: LOAD_WEBHOOK_SECRET unset; skipping the WebhookSource class")
                    return False
                path, body, headers = webhook_request()
                response = http.post(path, content=body, headers=headers)
    except httpx.HTTPError as exc:
        say(f"WARNING: {kind} probe failed ({exc}); skipping that class")
        return False
    if response.status_code == 404:
        say(f"WARNING: the {kind} route is not in this server (404); skipping that class")
        return False
    if response.status_code >= 300:
        say(f"WARNING: {kind} probe answered {response.status_code}; skipping that class")
        return False
    return True


UPLOAD_ON = os.environ.get("LOAD_PROBE", "1") == "1" and _probe("upload")
WEBHOOK_ON = os.environ.get("LOAD_PROBE", "1") == "1" and _probe("webhook")


def _record(name: str, response_time: float, exception: Any, **_: Any) -> None:
    if exception is None:
        SAMPLES[name].append(response_time)


def _dump(**_: Any) -> None:
    if path := os.environ.get("LOAD_ATTACKER_FILE"):
        Path(path).write_text(json.dumps(dict(ATTACKER_COUNTS)))
    if path := os.environ.get("LOAD_SAMPLES_FILE"):
        Path(path).write_text(json.dumps(SAMPLES))


events.request.add_listener(_record)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_dump)  # type: ignore[no-untyped-call]


class Creator(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.user = creator()
        self.headers = session_headers(self.user, client_ip())


class SignIn(FastHttpUser):
    weight = 1
    wait_time = between(1.0, 3.0)

    @task
    def sign_in(self) -> None:
        user = creator()
        headers = {"Origin": ORIGIN, "X-Forwarded-For": client_ip()}
        body = {"email": user.email, "password": user.password}
        with self.client.post(
            "/v1/auth/login", json=body, headers=headers, name="POST /v1/auth/login",
            catch_response=True,
        ) as response:  # fmt: skip
            raw = str(response.headers.get("set-cookie") or "")
            found = re.search(rf"{re.escape(COOKIE)}=([^;,\s]+)", raw)
            if response.status_code != 200 or found is None:
                response.failure(f"login {response.status_code}")
                return
        token = found.group(1)
        signed_in = {**headers, "Cookie": f"{COOKIE}={token}", "Accept": "application/json"}
        self.client.get("/v1/me", headers=signed_in, name="GET /v1/me")
        self.client.post("/v1/auth/logout", headers=signed_in, name="POST /v1/auth/logout")


class WorkspaceBrowser(Creator):
    weight = 2

    @task
    def list_workspaces(self) -> None:
        self.client.get("/v1/workspaces", headers=self.headers, name="GET /v1/workspaces")


class ConversationBrowser(Creator):
    weight = 3

    @task
    def list_conversations(self) -> None:
        self.client.get(
            f"/v1/workspaces/{self.user.workspace_id}/conversations?limit=20",
            headers=self.headers,
            name="GET /v1/workspaces/[id]/conversations?limit=20",
        )


class MessageReader(Creator):
    weight = 3

    @task
    def read_messages(self) -> None:
        conversation = random.choice(self.user.conversations)  # noqa: S311
        self.client.get(
            f"/v1/conversations/{conversation}/messages?limit=20",
            headers=self.headers,
            name="GET /v1/conversations/[id]/messages?limit=20",
        )


class Chatter(HttpUser):
    """Streams a reply. The POST's own entry is the time to the response head (non-model part);
    the whole stream is reported as a separate ``(model)`` entry."""

    weight = 2
    wait_time = between(2.0, 5.0)

    def on_start(self) -> None:
        self.user = creator()
        self.headers = {**session_headers(self.user, client_ip()), "Accept": "text/event-stream"}

    @task
    def send(self) -> None:
        conversation = random.choice(self.user.conversations)  # noqa: S311
        body = {"content": f"Give me three post ideas about topic {secrets.token_hex(3)}."}
        start = time.perf_counter()
        with self.client.post(
            f"/v1/conversations/{conversation}/messages", json=body, headers=self.headers,
            name="POST /v1/conversations/[id]/messages (SSE head)", stream=True,
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"send {response.status_code}")
                return
            done, size = False, 0
            for line in response.iter_lines():
                size += len(line)
                if line.startswith(b"event: done"):
                    done = True
            exception = None if done else RuntimeError("stream ended without done")
            self.environment.events.request.fire(
                request_type="SSE",
                name=f"POST /v1/conversations/[id]/messages, whole stream {MODEL_SUFFIX}",
                response_time=(time.perf_counter() - start) * 1000,
                response_length=size,
                exception=exception,
                context={},
            )


class Uploader(HttpUser):
    weight = 1
    abstract = not UPLOAD_ON
    wait_time = between(2.0, 5.0)

    def on_start(self) -> None:
        self.user = creator()
        self.headers = session_headers(self.user, client_ip())

    @task
    def upload(self) -> None:
        content = f"notes {secrets.token_hex(16)}\n".encode() * 64  # about 2.5 KB of text
        self.client.post(
            f"/v1/workspaces/{self.user.workspace_id}/files",
            headers=self.headers,
            files={UPLOAD_FIELD: ("notes.txt", content, "text/plain")},
            name="POST /v1/workspaces/[id]/files",
        )


class WebhookSource(FastHttpUser):
    weight = 1
    abstract = not WEBHOOK_ON
    wait_time = between(0.5, 2.0)

    @task
    def deliver(self) -> None:
        path, body, headers = webhook_request()
        self.client.post(
            path, data=body, headers=headers, name="POST /v1/webhooks/inbound/[source]"
        )


class Attacker(FastHttpUser):
    """One attacker, one address, a steady trickle of wrong passwords for one victim."""

    fixed_count = 1
    wait_time = constant_throughput(10)

    @task
    def guess(self) -> None:
        victim = PLATFORM.users[-1]
        body = {"email": victim.email, "password": f"guess-{secrets.token_hex(4)}"}
        headers = {"Origin": ORIGIN, "X-Forwarded-For": ATTACKER_IP}
        with self.client.post(
            "/v1/auth/login", json=body, headers=headers,
            name="POST /v1/auth/login (attacker)", catch_response=True,
        ) as response:  # fmt: skip
            ATTACKER_COUNTS[str(response.status_code)] += 1
            if response.status_code in (401, 429):
                response.success()  # refused, as it must be
            else:
                response.failure(f"attacker got {response.status_code}")
