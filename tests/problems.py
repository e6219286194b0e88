"""Assertions on RFC 9457 problem responses (``application/problem+json``), for every test."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM_FIELDS = frozenset({"type", "title", "status", "detail", "code", "request_id"})


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with our fields, whose ``request_id`` is the X-Request-ID header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_FIELDS, body
    assert body["status"] == status
    assert body["request_id"], body
    assert body["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert body["code"] == code, body
    return body
