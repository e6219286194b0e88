"""Comparing error answers: problem+json bodies equal apart from what differs per request.

A prober learns from any difference between two refusals (a 404 for "missing" and a 404 for
"not yours" that differ in one word tell them which ids exist). Bodies are compared whole, after
dropping the fields that legitimately change on every request: ``PER_REQUEST_FIELDS``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

PROBLEM_JSON = "application/problem+json"
# Fields an RFC 9457 problem may carry that differ per request by design: the request id this
# project sets, and what other stacks commonly add (an instance URI, a trace id, a timestamp).
PER_REQUEST_FIELDS = frozenset({"request_id", "instance", "trace_id", "timestamp"})


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body when it is a JSON object, else ``{}``: a deployment may answer anything."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def is_problem(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";")[0].strip() == PROBLEM_JSON


def normalised(response: httpx.Response) -> dict[str, Any] | str:
    """The body without per-request fields; a non-object body comes back as its text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text
    if not isinstance(body, dict):
        return response.text
    return {key: value for key, value in body.items() if key not in PER_REQUEST_FIELDS}


def same_refusal(response: httpx.Response, reference: httpx.Response) -> str:
    """Empty when ``response`` is the same refusal as ``reference``; else what differs."""
    if response.status_code != reference.status_code:
        return f"status {response.status_code}, expected {reference.status_code}"
    if not is_problem(response):
        return f"content-type {response.headers.get('content-type', '(none)')}, not problem+json"
    mine, theirs = normalised(response), normalised(reference)
    if mine != theirs:
        if isinstance(mine, dict) and isinstance(theirs, dict):
            keys = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
            return f"body differs in {', '.join(keys)}"
        return "body differs"
    return ""


def code_of(response: httpx.Response) -> str:
    body = normalised(response)
    return str(body.get("code", "")) if isinstance(body, dict) else ""
