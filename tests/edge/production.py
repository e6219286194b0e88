"""A production-configured server for the edge tests, and a client that can pick its source IP.

The settings are a complete, valid production configuration (``check-config`` accepts them). The
server trusts 127.0.0.1 as its proxy; a client bound to 127.0.0.2 is an untrusted peer, so the
same server shows both sides of every "believed only from a trusted proxy" rule.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.email.keys import private_key, private_pem
from tests.scanner import Clamd
from tests.servers import ServerFactory
from tests.support import Database, Server, base_env, run_cli

PUBLIC_URL = "https://app.launchproof.test"
EXTRA_HOST = "api.launchproof.test"
TRUSTED_PEER = "127.0.0.1"
UNTRUSTED_PEER = "127.0.0.2"


def production_env(db: Database, clamd_url: str) -> tuple[dict[str, str], dict[str, str]]:
    """(base environment, overrides for start_server). Production needs a real scanner."""
    env = base_env(
        db,
        CLAMD_URL=clamd_url,
        SCANNER_DISABLED="false",
        ENVIRONMENT="production",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        OPENAI_API_KEY="sk-" + secrets.token_hex(24),
        TRUSTED_PROXY_CIDRS=f"{TRUSTED_PEER}/32",
        DOCS_ENABLED="false",
        DEBUG="false",
        WEBHOOK_ENCRYPTION_KEYS=Fernet.generate_key().decode(),  # webhooks
        # Platform e-mail: production requires a relay and a DKIM key. Nothing listens on the
        # discard port: these tests send no mail (the server only writes the outbox).
        SMTP_URL="smtp://127.0.0.1:9",
        DKIM_SELECTOR="lp1",
        DKIM_PRIVATE_KEY=private_pem(private_key()),
    )
    env.pop("OPENAI_BASE_URL", None)
    env.pop("OUTBOUND_DEV_ALLOWED_ADDRESSES", None)
    overrides = {
        "PUBLIC_URL": PUBLIC_URL,
        "ALLOWED_ORIGINS": PUBLIC_URL,
        "ALLOWED_HOSTS": f"127.0.0.1,localhost,{EXTRA_HOST}",
    }
    return env, overrides


@pytest.fixture(scope="module")
def prod_server(db: Database, clamd: Clamd, server_factory: ServerFactory) -> Iterator[Server]:
    env, overrides = production_env(db, clamd.url)
    checked = run_cli({**env, **overrides}, "check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with server_factory(env, name="prod", overrides=overrides) as server:
        yield server


def request(
    server: Server,
    method: str,
    path: str,
    *,
    source: str = TRUSTED_PEER,
    https: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    """One request from ``source``; ``https`` adds the proxy's ``X-Forwarded-Proto: https``."""
    headers: dict[str, str] = dict(kwargs.pop("headers", {}))
    if https:
        headers.setdefault("X-Forwarded-Proto", "https")
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30, follow_redirects=False) as client:
        return client.request(method, server.url + path, headers=headers, **kwargs)
