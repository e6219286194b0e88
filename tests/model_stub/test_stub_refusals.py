"""The model stub refuses to serve anywhere but loopback (in the app and on the command line)."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import openai
import pytest

from app.model_stub.app import create_stub_app
from app.model_stub.server import NotLoopback, RunningStub, check_loopback
from tests.model_stub.stub_sdk import (
    WEATHER,
    control,
    sdk,
    user,
)
from tests.support import ROOT, free_port

pytestmark = pytest.mark.anyio


# --- Refusals -------------------------------------------------------------------------------


async def test_missing_bearer_is_401_and_nothing_is_echoed(stub: RunningStub) -> None:
    body = {"model": "m", "messages": user("hi")}
    async with httpx.AsyncClient(base_url=stub.api_base, timeout=5) as http:
        missing = await http.post("/chat/completions", json=body)
        basic = await http.post(
            "/chat/completions", json=body, headers={"Authorization": "Basic c2VjcmV0LXZhbHVl"}
        )
        models = await http.get("/models")
    for response in (missing, basic, models):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert "c2VjcmV0LXZhbHVl" not in basic.text
    assert (await control(stub, "GET", "/requests"))["requests"] == []
    async with sdk(stub) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.chat.completions.create(
                model="m", messages=user("hi"), extra_headers={"Authorization": "Token abc"}
            )


async def test_malformed_body_is_400(stub: RunningStub) -> None:
    headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=stub.api_base, timeout=5, headers=headers) as http:
        not_json = await http.post("/chat/completions", content=b'{"model": "m", "messages": [')
        no_content = await http.post(
            "/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": None, "x": "s3cr3t"}]},
        )
    for response in (not_json, no_content):
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert "s3cr3t" not in no_content.text
    async with sdk(stub) as client:
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(model="m", messages=[])
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(
                model="m",
                messages=user("hi"),
                tools=[WEATHER],
                tool_choice={"type": "function", "function": {"name": "other"}},
            )


async def test_control_api_refuses_non_loopback_clients() -> None:
    transport = httpx.ASGITransport(app=create_stub_app(), client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://stub") as http:
        response = await http.post("/_stub/reset")
    assert response.status_code == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    check_loopback(host)


PUBLIC_HOSTS = ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "stub.example"]  # noqa: S104


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_other_hosts_are_refused(host: str) -> None:
    with pytest.raises(NotLoopback):
        check_loopback(host)


def test_cli_refuses_a_public_bind() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "model-stub",
            "--host",
            "0.0.0.0",  # noqa: S104 - the bind being refused
            "--port",
            str(free_port()),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "loopback only" in result.stderr


def test_cli_serves_on_loopback() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "model-stub", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer x"}
                )
                break
            except httpx.TransportError:
                assert process.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200
        assert [m["id"] for m in response.json()["data"]] == ["stub-small", "stub-large"]
    finally:
        process.terminate()
        process.wait(timeout=10)
