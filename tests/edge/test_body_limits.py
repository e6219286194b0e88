"""Body, JSON-shape and header limits: clear 4xx, enforced while reading, never a 5xx (C7)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.factories.users import strong_password, unique_email
from tests.factories.workspaces import create_workspace
from tests.support import Actor, Anonymous, Database, Server

pytestmark = pytest.mark.checklist(
    "C7",
    red="remove or raise a cap in BodyLimits (read while streaming), parse JSON without "
    "the depth bound (app/core/json_limits.py), or lift uvicorn's header limit",
)

MIB = 1_048_576


def _assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "payload_too_large"
    assert body["request_id"] == response.headers["x-request-id"]


def _padded_signup(email: str, size: int) -> bytes:
    head = f'{{"email": "{email}", "password": "{strong_password()}", "pad": "'.encode()
    return head + b"x" * (size - len(head) - 2) + b'"}'


def test_declared_oversize_json_is_refused_and_nothing_stored(
    anon: Anonymous, db: Database
) -> None:
    email = unique_email("big")
    body = _padded_signup(email, MIB + 1)
    response = anon.post(
        "/v1/auth/signup", content=body, headers={"Content-Type": "application/json"}
    )
    _assert_413(response)
    assert db.scalar("SELECT count(*) FROM user_account WHERE email = %s", email) == 0


def test_streamed_oversize_json_is_refused_while_reading(anon: Anonymous, db: Database) -> None:
    email = unique_email("chunked")
    body = _padded_signup(email, 3 * MIB)

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = anon.post(
        "/v1/auth/signup", content=chunks(), headers={"Content-Type": "application/json"}
    )
    _assert_413(response)
    assert db.scalar("SELECT count(*) FROM user_account WHERE email = %s", email) == 0


def test_body_just_under_the_cap_is_parsed(anon: Anonymous) -> None:
    body = _padded_signup(unique_email("fits"), MIB - 1024)
    response = anon.post(
        "/v1/auth/signup", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (202, 422), response.text  # parsed: not a size refusal


def test_inbound_webhooks_have_a_smaller_cap(anon: Anonymous) -> None:
    response = anon.post("/v1/webhooks/inbound/any-source", content=b"x" * (300 * 1024))
    _assert_413(response)


def test_uploads_have_a_larger_cap(alice: Actor) -> None:
    workspace_id = create_workspace(alice)
    response = alice.post(f"/v1/workspaces/{workspace_id}/files", content=b"x" * (2 * MIB))
    assert response.status_code != 413  # over the JSON cap, well under the upload cap
    # A declared 30 MiB upload is refused from its headers, before a byte of body is sent.
    status, head = _raw_head_only(alice, f"/v1/workspaces/{workspace_id}/files", 30 * MIB)
    assert status == 413, head
    assert "application/problem+json" in head


def _raw_head_only(actor: Actor, path: str, declared: int) -> tuple[int, str]:
    """Send only a request head declaring ``declared`` body bytes; return the answer's status."""
    url = httpx.URL(actor.server.url)
    cookie = f"{actor.cookie_name}={actor.cookie}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nOrigin: {actor.server.origin}"
        f"\r\nCookie: {cookie}\r\nContent-Type: application/octet-stream"
        f"\r\nContent-Length: {declared}\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port or 80), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(65536).decode("latin-1")
    return int(answer.split(" ", 2)[1]), answer


def test_deeply_nested_json_is_a_4xx(anon: Anonymous, server: Server) -> None:
    depth = 100_000
    body = b"[" * depth + b"]" * depth
    response = anon.post(
        "/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    nested_object = b'{"a":' * depth + b"1" + b"}" * depth
    response = anon.post(
        "/v1/auth/login", content=nested_object, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("field", "item", "count"),
    [
        ("tools", b'"create_note"', 70_000),  # valid items: only the length cap refuses them
        ("allowed_domains", b'"a.io"', 140_000),
        ("allowed_domains", b"1", 500_000),  # half a million elements, under the body cap
    ],
)
def test_huge_array_where_a_list_is_expected_is_a_422(
    alice: Actor, field: str, item: bytes, count: int
) -> None:
    workspace_id = create_workspace(alice)
    array = b"[" + b",".join([item] * count) + b"]"
    body = b'{"name":"Big","system_prompt":"hi","model":"stub-small","%s":%s}' % (
        field.encode(),
        array,
    )
    assert len(body) < MIB
    response = alice.post(
        f"/v1/workspaces/{workspace_id}/bots",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text[:500]
    errors = response.json()["errors"]
    assert any(e["type"] == "too_long" and e["loc"][-1] == field for e in errors)
    assert len(response.content) < 64 * 1024  # not one error per element


@pytest.mark.parametrize("size", [64 * 1024, 20 * 1024])
def test_oversized_headers_are_refused(server: Server, size: int) -> None:
    try:
        response = httpx.get(server.url + "/healthz", headers={"X-Big": "a" * size}, timeout=10)
    except httpx.TransportError:
        return  # the server closed the connection on the oversized head: refused
    assert response.status_code in (400, 431), response.status_code
    if response.status_code == 431:
        assert response.json()["code"] == "headers_too_large"


def test_ordinary_headers_pass(server: Server) -> None:
    response = httpx.get(server.url + "/healthz", headers={"X-Big": "a" * 8 * 1024}, timeout=10)
    assert response.status_code == 200
