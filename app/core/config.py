"""Settings: the one place configuration enters the process.

Every value comes from the environment (or a ``*_FILE`` next to a secret, for Docker/Kubernetes
secrets). Nothing secret has a default. ``production_problems()`` lists every setting production
refuses; the app factory and ``python -m app check-config`` both use it, and the messages name the
setting, never its value.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.config_edge import EdgeTimeoutSettings
from app.core.config_files import FILE_SECRET_FIELDS, FileSettings
from app.core.config_limits import LimitSettings
from app.core.keys import KeyRingSettings, secret_key_ring_problems, strong_dkim_key
from app.core.proxies import expand_proxy_tokens, within_cloudflare
from app.core.webhook_config import (
    WebhookSettings,
    parse_inbound_secrets,
    split_list,
    webhook_problems,
)

SECRET_FIELDS = ("secret_key", "openai_api_key")
PLACEHOLDER_MARKERS = (
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "placeholder",
    "example",
    "xxx",
)
MIN_SECRET_LENGTH = 32
# Cloudflare's request body limit on the Free and Pro plans (100 MB, decimal to be safe).
EDGE_MAX_BODY_BYTES = 100_000_000


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(
    KeyRingSettings,
    FileSettings,
    EdgeTimeoutSettings,
    LimitSettings,
    WebhookSettings,
    BaseSettings,
):
    # hide_input_in_errors: a rejected value (a malformed DKIM key, a URL with a password) must
    # not be echoed into a startup traceback and from there into logs.
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, hide_input_in_errors=True
    )

    # --- Runtime -------------------------------------------------------------------------
    environment: Environment = Environment.DEVELOPMENT
    debug: bool = False
    docs_enabled: bool | None = None  # None = on in development only
    public_url: str = "http://127.0.0.1:8000"
    release: str = "dev"

    # --- Database ------------------------------------------------------------------------
    database_url: SecretStr | None = None  # the app role: owns nothing, no superuser, under RLS
    database_migration_url: SecretStr | None = None  # the owner role: runs migrations only
    # The role migrations grant to; defaults to the user in DATABASE_URL.
    database_app_role: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_statement_timeout_ms: int = Field(default=5000, ge=100, le=600_000)
    database_pool_pre_ping: bool = True  # docs/decisions/0013-dependency-loss.md
    database_connect_timeout_seconds: float = Field(default=5.0, ge=0.5, le=60.0)
    database_pool_timeout_seconds: float = Field(default=10.0, ge=0.5, le=120.0)

    redis_url: SecretStr | None = None

    # --- Error reporting -------------------------------------------------------------------
    # Sentry (app/core/error_reporting.py): off unless set; traces off unless a rate is given.
    sentry_dsn: SecretStr | None = None
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    # --- Secrets -------------------------------------------------------------------------
    # SECRET_KEY and SECRET_KEY_PREVIOUS: KeyRingSettings (app/core/keys.py).
    openai_api_key: SecretStr | None = None
    # Fingerprints of the staging secrets (``python -m app secret-fingerprints`` in staging):
    # production refuses to start with any secret that matches one. Salted scrypt digests only.
    staging_secret_fingerprints: SecretStr | None = None

    # --- HTTP edge -----------------------------------------------------------------------
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxy_cidrs: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list
    )
    # Every body cap stays below the edge's: Cloudflare refuses bodies over 100 MB on Free/Pro
    # with its own 413 page, so a larger cap here would only promise what the edge breaks.
    max_request_body_bytes: int = Field(default=1_048_576, ge=1024, le=EDGE_MAX_BODY_BYTES)
    # Body caps per route class (413 while reading): uploads and inbound webhooks.
    max_upload_body_bytes: int = Field(default=25 * 1_048_576, ge=1024, le=EDGE_MAX_BODY_BYTES)
    max_webhook_body_bytes: int = Field(default=256 * 1024, ge=1024, le=EDGE_MAX_BODY_BYTES)

    # --- Sessions and credentials --------------------------------------------------------
    session_cookie_secure: bool = True
    session_idle_timeout_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    session_absolute_timeout_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    email_token_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    password_reset_ttl_seconds: int = Field(default=3600, ge=60)
    invitation_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # Argon2id, OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1 is the minimum;
    # we default above it. Changing these rehashes on the next successful login.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1)
    argon2_max_concurrency: int = Field(default=2, ge=1, le=64)

    # --- Chat and the model provider ---------------------------------------------------
    # The official openai SDK talks to OPENAI_BASE_URL (OpenAI or any compatible server).
    openai_base_url: str | None = None
    # Models a bot may use; anything else is refused at bot creation.
    chat_models: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["stub-small", "stub-large", "gpt-4.1-mini", "gpt-4o-mini"]
    )
    chat_max_output_tokens: int = Field(default=1024, ge=16, le=32_768)
    chat_max_tool_rounds: int = Field(default=3, ge=0, le=10)
    chat_max_message_chars: int = Field(default=8000, ge=100, le=100_000)
    chat_history_messages: int = Field(default=40, ge=2, le=500)
    # ...and at most this many estimated tokens of them, newest kept (docs/configuration.md).
    chat_history_tokens: int = Field(default=16_000, ge=100, le=1_000_000)
    chat_request_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    chat_max_retries: int = Field(default=2, ge=0, le=5)
    # Untrusted model output (more ends the turn failed with a code), and the streaming lease
    # after which the worker ends a turn whose process died: docs/configuration.md.
    chat_max_tool_calls_per_round: int = Field(default=16, ge=1, le=128)
    chat_max_answer_chars: int = Field(default=100_000, ge=1000, le=1_000_000)
    chat_turn_lease_seconds: float = Field(default=60.0, ge=2, le=110)
    # SSE keep-alive comment while a turn is silent: Cloudflare closes a proxied response that
    # sends nothing for 100 s (524), so at most 15 s between bytes.
    sse_ping_seconds: float = Field(default=10.0, gt=0, le=15.0)
    # Per-workspace model spend cap: tokens (prompt + completion) per UTC day.
    chat_daily_token_budget: int = Field(default=200_000, ge=0)
    # Development only: loopback addresses the HTTP fetch tool and webhooks may reach (local test
    # receivers). Production refuses to start with any.
    outbound_dev_allowed_addresses: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- Rate limits: app/core/config_limits.py; the Redis key prefix of this deployment ---
    rate_limit_key_prefix: str = Field(default="launchproof", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")

    # --- Files: FileSettings (app/core/config_files.py) -----------------------------------

    # --- Webhooks (app/webhooks; docs/webhooks.md) ---------------------------------------
    # Fernet keys (comma list): the first encrypts endpoint signing secrets, all decrypt.
    # Empty outside production = one key derived from SECRET_KEY (HKDF); production refuses.
    webhook_encryption_keys: SecretStr | None = None
    # Inbound sources and their Standard Webhooks secrets: "billing=whsec_...,creator=whsec_...".
    webhook_inbound_secrets: SecretStr | None = None
    # Delivery tuning and the disable/retention policy: WebhookSettings (webhook_config.py).
    # Extra receiver ports production allows besides 443 (development/test allow any port).
    webhook_allowed_ports: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Development/test only: the DNS server ("127.0.0.1:5353") outbound requests resolve with,
    # so tests can serve hostile answers. Production refuses it.
    outbound_dns_server: str | None = Field(default=None, pattern=r"^[0-9.]+:\d{1,5}$")

    # --- Worker ---------------------------------------------------------------------------
    # How often the worker looks for due jobs; each job also has its own interval (app/worker.py).
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60)

    # --- Shutdown (docs/deploy.md "The container") -----------------------------------------
    # SIGTERM: the API finishes open responses for this long, then ends open event streams; the
    # worker finishes its running jobs. Below Kubernetes' default 30 s terminationGracePeriod.
    shutdown_grace_seconds: int = Field(default=20, ge=1, le=25)

    # --- Outgoing mail: the sender of the outbox's messages (SMTP settings below) ----------
    email_from: str = "Launchproof <no-reply@launchproof.invalid>"

    # --- Observability and platform e-mail (docs/observability.md, docs/email.md) ---------
    # GET /metrics answers only "Authorization: Bearer <METRICS_TOKEN>"; unset = 404 (invisible).
    metrics_token: SecretStr | None = None
    # smtp://, smtp+starttls://, smtps://[user:password@]host; unset = outbox only (not in prod).
    smtp_url: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # DKIM: RSA >= 2048 bits, checked at startup in every environment; d= is DKIM_DOMAIN or the
    # domain of EMAIL_FROM.
    dkim_selector: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
    dkim_private_key: Annotated[SecretStr | None, AfterValidator(strong_dkim_key)] = None
    dkim_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$")
    email_max_attempts: int = Field(default=8, ge=1, le=50)  # per message, then failed
    email_retry_base_seconds: float = Field(default=30.0, gt=0, le=3600)  # doubles per attempt
    email_retry_max_seconds: float = Field(default=3600.0, gt=0, le=24 * 3600)
    email_lease_seconds: float = Field(default=120.0, ge=5, le=3600)
    email_batch_size: int = Field(default=20, ge=1, le=500)

    @field_validator(
        "allowed_origins",
        "allowed_hosts",
        "chat_models",
        "outbound_dev_allowed_addresses",
        "webhook_allowed_ports",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("trusted_proxy_cidrs", mode="before")
    @classmethod
    def _cidrs(cls, value: Any) -> Any:
        # "cloudflare" expands to Cloudflare's published ranges (app/core/data/cloudflare_ips.txt).
        items = _split_csv(value)
        if isinstance(items, list):
            return expand_proxy_tokens(items)
        return items

    @field_validator("allowed_origins")
    @classmethod
    def _origins_are_exact(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and (origin.endswith("/") or "://" not in origin):
                raise ValueError("ALLOWED_ORIGINS entries are scheme://host[:port] with no path")
        return [origin.lower() for origin in value]

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """Support ``NAME_FILE`` for every secret-bearing setting (Docker/K8s secrets)."""
        if not isinstance(data, dict):
            return data
        for field in (
            *SECRET_FIELDS,
            "secret_key_previous",
            "staging_secret_fingerprints",
            "database_url",
            "database_migration_url",
            "redis_url",
            "sentry_dsn",
            *FILE_SECRET_FIELDS,
            "webhook_encryption_keys",
            "webhook_inbound_secrets",
            "metrics_token",
            "smtp_url",
            "dkim_private_key",
        ):
            path = os.environ.get(f"{field.upper()}_FILE")
            if path and not data.get(field):
                data[field] = Path(path).read_text(encoding="utf-8").strip()
        return data

    # --- Derived -------------------------------------------------------------------------
    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def cloudflare_proxy_cidrs(self) -> list[IPv4Network | IPv6Network]:
        """Trusted networks inside Cloudflare's ranges: only these may send CF-Connecting-IP."""
        return within_cloudflare(self.trusted_proxy_cidrs)

    @property
    def show_docs(self) -> bool:
        if self.docs_enabled is None:
            return self.is_development
        return self.docs_enabled

    @property
    def session_cookie_over_plain_http(self) -> bool:
        """Development on http loopback (make run): no Secure, else scripts lose the session."""
        url = urlsplit(self.public_url)
        loopback = url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost")
        development = self.environment is Environment.DEVELOPMENT
        return development and (loopback or not self.session_cookie_secure)

    @property
    def session_cookie_name(self) -> str:
        # __Host- forbids Domain and requires Secure and Path=/: the cookie cannot be
        # planted by a sibling subdomain. Browsers reject it without Secure, so development
        # over plain http keeps an unprefixed name.
        if self.session_cookie_over_plain_http:
            return "lp_session"
        return "__Host-lp_session"

    def production_problems(self) -> list[str]:
        """What production refuses. Each entry names a setting, never its value."""
        problems: list[str] = []
        for name in SECRET_FIELDS:
            secret: SecretStr | None = getattr(self, name)
            if secret is None:
                problems.append(f"{name.upper()} is not set")
                continue
            raw = secret.get_secret_value()
            if len(raw) < MIN_SECRET_LENGTH:
                problems.append(f"{name.upper()} is shorter than {MIN_SECRET_LENGTH} characters")
            if any(marker in raw.lower() for marker in PLACEHOLDER_MARKERS):
                problems.append(f"{name.upper()} looks like a placeholder")
        if self.secret_key is not None:
            problems += secret_key_ring_problems(
                self.secret_key.get_secret_value(),
                self.previous_secret_keys(),
                min_length=MIN_SECRET_LENGTH,
                placeholders=PLACEHOLDER_MARKERS,
            )
        problems += self._staging_secret_problems()
        if self.debug:
            problems.append("DEBUG is on")
        if self.show_docs:
            problems.append("DOCS_ENABLED exposes the API docs")
        if "*" in self.allowed_origins:
            problems.append("ALLOWED_ORIGINS contains a wildcard")
        if any(origin.startswith("http://") for origin in self.allowed_origins):
            problems.append("ALLOWED_ORIGINS contains a non-https origin")
        if "null" in self.allowed_origins:
            problems.append("ALLOWED_ORIGINS contains null")
        if not self.session_cookie_secure:
            problems.append("SESSION_COOKIE_SECURE is off")
        if not self.allowed_hosts or "*" in self.allowed_hosts:
            problems.append("ALLOWED_HOSTS is empty or a wildcard")
        if not self.public_url.startswith("https://"):
            problems.append("PUBLIC_URL is not https")
        for name in ("database_url", "database_migration_url"):
            url: SecretStr | None = getattr(self, name)
            if url is None:
                if name == "database_url":
                    problems.append("DATABASE_URL is not set")
                continue
            if not url.get_secret_value().startswith(("postgresql", "postgres")):
                problems.append(f"{name.upper()} is not a PostgreSQL URL")
        if self.database_url is not None and self.database_migration_url is not None:
            if _url_user(self.database_url) == _url_user(self.database_migration_url):
                problems.append("DATABASE_URL uses the migration (owner) role")
        if self.redis_url is None:
            problems.append("REDIS_URL is not set")
        if self.outbound_dev_allowed_addresses:
            problems.append("OUTBOUND_DEV_ALLOWED_ADDRESSES is set")
        if self.openai_base_url is not None and not self.openai_base_url.startswith("https://"):
            problems.append("OPENAI_BASE_URL is not https")
        problems += self.file_production_problems()  # files (app/core/config_files.py)
        # --- Webhooks ---
        problems.extend(
            webhook_problems(self.webhook_encryption_key_list(), self.outbound_dns_server)
        )
        # --- Observability and platform e-mail ---
        problems.extend(self._observability_email_problems())
        return problems

    def _staging_secret_problems(self) -> list[str]:
        if self.staging_secret_fingerprints is None:
            return []
        from app.core.secret_fingerprints import (
            FingerprintFileError,
            load_fingerprints,
            shared_with_staging,
        )

        try:
            staging = load_fingerprints(self.staging_secret_fingerprints.get_secret_value())
        except FingerprintFileError as exc:
            return [f"STAGING_SECRET_FINGERPRINTS {exc}"]
        return shared_with_staging(self, staging)

    def _observability_email_problems(self) -> list[str]:
        required = {
            "SMTP_URL": self.smtp_url,
            "DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE)": self.dkim_private_key,
            "DKIM_SELECTOR": self.dkim_selector,
        }
        problems = [f"{name} is not set" for name, value in required.items() if value is None]
        if self.metrics_token is not None:
            raw = self.metrics_token.get_secret_value()
            if len(raw) < MIN_SECRET_LENGTH:
                problems.append(f"METRICS_TOKEN is shorter than {MIN_SECRET_LENGTH} characters")
            if any(marker in raw.lower() for marker in PLACEHOLDER_MARKERS):
                problems.append("METRICS_TOKEN looks like a placeholder")
        return problems

    # --- Webhooks (derived; parsing in app/core/webhook_config.py) ----------------------
    @field_validator("webhook_inbound_secrets")
    @classmethod
    def _inbound_secrets(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_inbound_secrets(value.get_secret_value())  # a malformed entry stops start-up
        return value

    def webhook_encryption_key_list(self) -> list[str]:
        raw = self.webhook_encryption_keys
        return [] if raw is None else split_list(raw.get_secret_value())

    def webhook_inbound_secret_map(self) -> dict[str, SecretStr]:
        raw = self.webhook_inbound_secrets
        parsed = {} if raw is None else parse_inbound_secrets(raw.get_secret_value())
        return {source: SecretStr(secret) for source, secret in parsed.items()}


def _url_user(url: SecretStr) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url.get_secret_value()).username or ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
