"""File handling (C8), with an account: the upload cap holds while streaming, EICAR never comes
back out, and what does come back cannot run in a browser.

Every file goes into the run's throwaway workspace and is deleted afterwards (``scratch``). The
uploads are made once (``_uploads``) and their scans awaited together, so the checks share one
wait. The EICAR test string is assembled at run time from parts, so no scanner flags this file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.scorecard import scratch
from app.scorecard.budgets import documented_size
from app.scorecard.context import Context
from app.scorecard.early_answer import post_streaming
from app.scorecard.model import Evidence
from app.scorecard.registry import Verdict, check
from app.scorecard.session import Session, signed_in

FIX = "docs/files.md (MAX_UPLOAD_BODY_BYTES, CLAMD_URL, app/files/downloads.py)"
STATE = "file_handling.uploads"
WAITED = "file_handling.scan_wait_seconds"
SCAN_WAIT_SECONDS = 10.0
POLL_SECONDS = 0.5
CHUNK = 64 * 1024
EICAR = b"".join(
    (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$", b"EICAR-STANDARD-ANTIVIRUS-", b"TEST-FILE!$H+H*")
)
HTML = b"<!doctype html><html><body><script>document.title='lpcheck'</script></body></html>\n"
NEEDS_ACCOUNT = "needs --account (a throwaway account that can sign in and upload)"


@dataclass
class Upload:
    label: str
    what: str
    response: httpx.Response
    file_id: str | None = None
    status: str = ""  # the file's scan status when last read
    polls: list[str] = field(default_factory=list)


def _file_id(response: httpx.Response) -> str | None:
    if response.status_code != 201:
        return None
    try:
        body: Any = response.json()
    except ValueError:
        return None
    return str(body["id"]) if isinstance(body, dict) and body.get("id") else None


def _uploads(ctx: Context) -> dict[str, Upload] | None:
    """Upload the clean, EICAR and HTML files once, then poll until each has a verdict."""
    if STATE in ctx.state:
        cached: dict[str, Upload] | None = ctx.state[STATE]
        return cached
    session = signed_in(ctx, 0)
    ctx.state[STATE] = None
    if session is None or scratch.workspace(session) is None:
        return None
    name = scratch.canary(ctx, "file") + ".txt"
    content = scratch.canary(ctx, "content")
    sent = {
        "clean": (name, f"launchproof check {content}\n".encode(), "text/plain"),
        "eicar": ("notes.txt", b"launchproof check\n" + EICAR + b"\n", "text/plain"),
        "html": ("page.html", HTML, "text/html"),
    }
    uploads = {}
    for label, (filename, data, kind) in sent.items():
        response = scratch.upload(session, filename, data, kind)
        what = f"POST /v1/workspaces/<throwaway>/files ({filename}, {kind}, {len(data)} bytes)"
        uploads[label] = Upload(label, what, response, _file_id(response))
    waited = _await_verdicts(session, [u for u in uploads.values() if u.file_id])
    ctx.state[STATE] = uploads
    ctx.state[WAITED] = waited
    return uploads


def _await_verdicts(session: Session, uploads: list[Upload]) -> float:
    """Poll until each upload has a verdict, for at most ``SCAN_WAIT_SECONDS`` and a sixth of
    the time left (the later checks need the rest); returns the seconds waited."""
    started = time.monotonic()
    deadline = started + min(SCAN_WAIT_SECONDS, session.ctx.probe.budget.remaining_seconds() / 6)
    waiting = list(uploads)
    while waiting:
        for upload in list(waiting):
            response = session.request("GET", f"/v1/files/{upload.file_id}")
            upload.status = _status(response)
            if upload.status in ("clean", "infected") or response.status_code != 200:
                waiting.remove(upload)
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(POLL_SECONDS)
    return time.monotonic() - started


def _status(response: httpx.Response) -> str:
    if response.status_code != 200:
        return ""
    try:
        body: Any = response.json()
    except ValueError:
        return ""
    return str(body.get("status", "")) if isinstance(body, dict) else ""


def _content(session: Session, upload: Upload) -> httpx.Response:
    return session.request("GET", f"/v1/files/{upload.file_id}/content")


def _too_big(total: int) -> Iterator[bytes]:
    """A multipart body of ``total`` file bytes (past the cap), chunk by chunk."""
    head = b'--lpcheck\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
    yield head + b"Content-Type: text/plain\r\n\r\n"
    for _ in range(0, total, CHUNK):
        yield b"a" * CHUNK
    yield b"\r\n--lpcheck--\r\n"


@check(
    "file_handling",
    "files.oversized_streaming",
    "an upload over the cap is refused while it streams",
    fix=FIX,
)
def oversized(ctx: Context) -> Verdict:
    session = signed_in(ctx, 0)
    if session is None:
        return Verdict.not_checked(NEEDS_ACCOUNT)
    workspace_id = scratch.workspace(session)
    if workspace_id is None:
        return Verdict.not_checked("could not create a throwaway workspace")
    limit = documented_size(ctx.options.budgets, "max_upload_body_bytes")
    total = limit + max(limit, 8 * 1024 * 1024)
    path = f"/v1/workspaces/{workspace_id}/files"
    headers = {
        "Content-Type": "multipart/form-data; boundary=lpcheck",
        "Origin": ctx.options.base_url.rstrip("/"),
        "Cookie": f"{session.cookie_name}={session.cookie_value}",
    }
    answer = post_streaming(ctx, path, headers, _too_big(total), pace_after=limit)
    sent = Evidence(
        f"POST {path} (chunked, <session cookie>; {total} bytes offered, documented cap {limit})",
        answer.status,
        f"answered after {answer.sent} bytes; Content-Type: {answer.content_type or '<none>'}",
    )
    if answer.status == 429:
        return Verdict.not_checked("the upload budget is spent (429)", sent)
    if answer.status != 413:
        return Verdict.failed(sent, Evidence(f"POST {path}", answer.status, "want 413"))
    if answer.finished:
        return Verdict.failed(sent, Evidence(f"POST {path}", 413, "413 only after the whole body"))
    return Verdict.passed(sent)


@check(
    "file_handling",
    "files.eicar_quarantined",
    "the EICAR test file is quarantined and never downloadable",
    fix=FIX,
)
def eicar(ctx: Context) -> Verdict:
    uploads = _uploads(ctx)
    session = signed_in(ctx, 0)
    if uploads is None or session is None:
        return Verdict.not_checked(NEEDS_ACCOUNT)
    upload = uploads["eicar"]
    sent = Evidence(upload.what + " with the EICAR test string", upload.response.status_code)
    if upload.response.status_code == 429:
        return Verdict.not_checked("the upload budget is spent (429)", sent)
    if upload.file_id is None:  # refused at the door: fine, as long as it is a refusal
        ok = 400 <= upload.response.status_code < 500
        return (Verdict.passed if ok else Verdict.failed)(sent)
    served = _content(session, upload)
    leaked = served.status_code == 200 or EICAR in served.content
    detail = f"scan status {upload.status or 'unknown'}; body has EICAR: {EICAR in served.content}"
    got = Evidence(f"GET /v1/files/{upload.file_id}/content", served.status_code, detail)
    if leaked or upload.status == "clean":
        return Verdict.failed(sent, got)
    return Verdict.passed(sent, got)


@check(
    "file_handling",
    "files.download_headers",
    "a clean file downloads as an attachment with nosniff and a sandboxing CSP",
    fix=FIX,
)
def download_headers(ctx: Context) -> Verdict:
    uploads = _uploads(ctx)
    session = signed_in(ctx, 0)
    if uploads is None or session is None:
        return Verdict.not_checked(NEEDS_ACCOUNT)
    upload = uploads["clean"]
    sent = Evidence(upload.what, upload.response.status_code)
    if upload.file_id is None:
        return Verdict.not_checked("the clean upload was refused", sent)
    if upload.status != "clean":
        waited = ctx.state.get(WAITED, 0.0)
        why = f"the clean file is still {upload.status or 'unknown'} after {waited:.0f} s"
        return Verdict.not_checked(why, sent)
    served = _content(session, upload)
    return _judge_download(served, f"GET /v1/files/{upload.file_id}/content", sent)


def _judge_download(served: httpx.Response, what: str, *before: Evidence) -> Verdict:
    headers = served.headers
    disposition = headers.get("content-disposition", "")
    csp = headers.get("content-security-policy", "")
    problems = []
    if served.status_code != 200:
        problems.append("not served")
    if not disposition.lower().startswith("attachment"):
        problems.append(f"Content-Disposition: {disposition or '<missing>'}")
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if "sandbox" not in csp.lower():
        problems.append(f"Content-Security-Policy without sandbox: {csp or '<missing>'}")
    detail = f"Content-Type: {headers.get('content-type', '<missing>')}; " + (
        "; ".join(problems) if problems else f"attachment, nosniff, CSP {csp}"
    )
    evidence = Evidence(what, served.status_code, detail)
    return (Verdict.failed if problems else Verdict.passed)(*before, evidence)


@check(
    "file_handling",
    "files.html_inert",
    "an HTML upload is refused or served as an inert attachment",
    fix=FIX,
)
def html_inert(ctx: Context) -> Verdict:
    uploads = _uploads(ctx)
    session = signed_in(ctx, 0)
    if uploads is None or session is None:
        return Verdict.not_checked(NEEDS_ACCOUNT)
    upload = uploads["html"]
    sent = Evidence(upload.what, upload.response.status_code)
    if upload.response.status_code == 429:
        return Verdict.not_checked("the upload budget is spent (429)", sent)
    if upload.file_id is None:
        ok = 400 <= upload.response.status_code < 500
        return (Verdict.passed if ok else Verdict.failed)(sent)
    served = _content(session, upload)
    if served.status_code != 200:
        status = upload.status or "unknown"
        return Verdict.not_checked(f"stored, scan status {status}: not served yet", sent)
    # Served: only as an attachment with nosniff and a sandbox (the type alone decides nothing
    # once the browser is told to save it and may not sniff or run it).
    return _judge_download(served, f"GET /v1/files/{upload.file_id}/content", sent)
