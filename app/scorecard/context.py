"""What a run knows: the operator's options, the budgeted probe, and state shared by checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.scorecard.probe import Probe


@dataclass(frozen=True)
class Account:
    """A throwaway account the operator created for the check. The password and the TOTP secret
    (base32, for an account with an authenticator app enrolled) are never printed."""

    email: str
    password: str = field(repr=False)
    totp_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Options:
    base_url: str  # https://app.example.com (no trailing slash)
    http_url: str | None = None  # where plain http answers; default: base_url with http://
    origin_url: str | None = None  # the origin's own address, to prove it is not reachable
    expect_cloudflare: bool = False
    accounts: tuple[Account, ...] = ()
    domain: str | None = None  # the sending domain for SPF/DKIM/DMARC
    dkim_selector: str | None = None
    nameserver: str | None = None  # IP[:PORT]; default the system resolver
    openapi_path: Path | None = None  # a route inventory from an OpenAPI document
    log_file: Path | None = None  # the server's log for this run (logging hygiene)
    repo: Path | None = None  # the source tree (deployment row, uptime and alert rules)
    env_file: Path | None = None  # production settings for check-config (with --repo)
    # Rate-limit budgets the deployment documents, when not the defaults: name -> "5/minute".
    budgets: dict[str, str] = field(default_factory=dict)
    p95_samples: int = 60
    # Staff credentials for the admin rate limit (without them: only "non-staff are refused").
    staff_account: Account | None = None
    # An inbound webhook source configured on the deployment (WEBHOOK_INBOUND_SECRETS).
    webhook_source: str | None = None
    # With --repo: run pip-audit against the lock (it reaches the vulnerability database).
    audit: bool = False

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def plain_http_url(self) -> str:
        if self.http_url:
            return self.http_url.rstrip("/")
        parts = urlsplit(self.base_url)
        return f"http://{parts.hostname}"


@dataclass
class Context:
    options: Options
    probe: Probe
    # Shared between checks of one run (a signed-in session, ids created for the authorization
    # checks); keys are namespaced by the module that owns them: "authz.workspace_id".
    state: dict[str, Any] = field(default_factory=dict)
    # Undo steps for everything a check created, run last-in first-out even after a failure.
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.options.base_url.rstrip("/") + path
