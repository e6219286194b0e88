"""The launch checklist's rows C1..C14 and their pass criteria, as data.

The team's checklist lives outside the repository; ``docs/checklist.md`` is generated from this
copy and the ``checklist`` markers (``python -m tests.checklist_doc``), so a criterion changes
here and nowhere else in the repo.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    id: str
    check: str
    criterion: str


ROWS: tuple[Row, ...] = (
    Row(
        "C1",
        "Authentication",
        "every private route requires a valid session or API key; tested with no token, expired,"
        " tampered, revoked, and wrong-kind credentials",
    ),
    Row(
        "C2",
        "Authorization",
        "users reach only their own resources; ownership enforced in the database query (and by"
        " row-level security), never by client-side filtering; ID swapping on every CRUD route"
        " fails; IDs are not guessable",
    ),
    Row(
        "C3",
        "Chatbot isolation",
        "the bot, its context and its tools cannot read other users' conversations, files or"
        " workspace data, whatever the prompt says",
    ),
    Row(
        "C4",
        "Secrets handling",
        "zero secrets in the repo, its history, build artifacts, images, logs, error responses;"
        " server-only config; least-privilege keys; a rotation path for every secret",
    ),
    Row(
        "C5",
        "CORS, cookies, storage",
        "only approved origins, exact match, never `*` with credentials; session cookie"
        " `HttpOnly; Secure; SameSite`, `__Host-` prefix in production; no tokens in"
        " localStorage; CSRF defence on cookie-authenticated writes",
    ),
    Row(
        "C6",
        "Rate limiting",
        "login, signup/reset, chat, upload, webhook and admin routes throttled by client IP (as"
        " seen through trusted proxies only) plus account; stricter on expensive model calls;"
        " per-workspace model spend caps",
    ),
    Row(
        "C7",
        "Input validation",
        "every input validated server-side (types, sizes, depths, formats, unknown fields"
        " rejected); malformed input gets a clear 4xx, never a 5xx; tool-call arguments"
        " validated before execution",
    ),
    Row(
        "C8",
        "File handling",
        "uploads size-limited while streaming, type-checked from content, malware-scanned before"
        " use, quarantined until clean, served so they cannot execute in a browser;"
        " per-workspace quotas",
    ),
    Row(
        "C9",
        "Logging hygiene",
        "no prompts, message content, tokens, passwords, cookies or personal data in logs or"
        " error reports; redaction at source; security events in an audit log",
    ),
    Row(
        "C10",
        "DNS and e-mail",
        "platform mail (verification, reset, invites, notices) DKIM-signed; SPF, DKIM and DMARC"
        " records defined and checkable",
    ),
    Row(
        "C11",
        "HTTPS, monitoring, CDN",
        "HTTPS forced (redirect + HSTS) behind Cloudflare; origin trusts only Cloudflare; health"
        " and readiness endpoints; metrics and alerts on 5xx rate, auth failures, webhook"
        " failures, latency; uptime checks on login, chat, webhook, health",
    ),
    Row(
        "C12",
        "Tool calling",
        "the bot calls only tools on its allowlist, with validated arguments, as the calling"
        " user, with SSRF-safe outbound HTTP to allowlisted domains only; every call audited",
    ),
    Row(
        "C13",
        "Latency",
        "p95 under 500 ms for non-model requests (auth, session fetch, conversation persistence)"
        " under load",
    ),
    Row(
        "C14",
        "Deployment",
        "no manual clicks: CI runs lint, tests, secret scan and the attack suite; the image is"
        " reproducible, minimal, non-root; environments separated; a secret-rotation runbook",
    ),
)
ROW_IDS: tuple[str, ...] = tuple(row.id for row in ROWS)
