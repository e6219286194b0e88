"""The vulnerable fixture app is vulnerable: each planted flaw, shown over real connections.

``test_vulnerable.py`` proves that ``launchproof check`` finds these flaws; this file proves
they are there to be found, independently of the checker, so a FAIL there can be trusted to be
about the planted flaw and not about a fixture that broke in some other way.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from app.core.secret_scan import find_secret_types
from app.email.domain_check import check_dkim, check_dmarc, check_spf, make_resolver
from tests.scanner import EICAR
from tests.scorecard.stack import DKIM_SELECTOR, DOMAIN, HOST, Stack
from tests.scorecard.vulnerable.planted import planted_repo
from tests.scorecard.vulnerable.server import CERT_DAYS, client

EVIL = "https://app.launchproof.test.evil.example"


@pytest.fixture(scope="module")
def http(vulnerable_stack: Stack) -> Iterator[httpx.Client]:
    with client(vulnerable_stack) as session:
        yield session


def url(stack: Stack, path: str) -> str:
    return stack.base_url + path


def login(stack: Stack, http: httpx.Client, index: int) -> httpx.Response:
    email, password = stack.accounts[index]
    body = {"email": email, "password": password}
    response = http.post(url(stack, "/v1/auth/login"), json=body, headers={"Origin": EVIL})
    assert response.status_code == 200, response.text
    http.cookies.clear()  # every request says who it is, or that it is nobody
    return response


def cookie_of(response: httpx.Response) -> dict[str, str]:
    return {"Cookie": response.headers["set-cookie"].split(";", 1)[0]}


def test_cors_reflects_any_origin_with_credentials(
    vulnerable_stack: Stack, http: httpx.Client
) -> None:
    preflight = http.options(
        url(vulnerable_stack, "/v1/me"),
        headers={"Origin": EVIL, "Access-Control-Request-Method": "DELETE"},
    )
    assert preflight.headers["access-control-allow-origin"] == EVIL
    assert preflight.headers["access-control-allow-credentials"] == "true"
    signed_in = login(vulnerable_stack, http, 0)
    assert signed_in.headers["access-control-allow-origin"] == EVIL


def test_session_cookie_is_weak_and_in_the_login_body(
    vulnerable_stack: Stack, http: httpx.Client
) -> None:
    response = login(vulnerable_stack, http, 0)
    header = response.headers["set-cookie"]
    name, _, rest = header.partition("=")
    token = rest.split(";", 1)[0]
    assert not name.startswith("__Host-")
    assert not {"secure", "httponly", "samesite=lax", "samesite=strict"} & {
        part.strip().lower() for part in header.split(";")
    }
    assert response.json()["token"] == token


def test_private_routes_answer_without_credentials(
    vulnerable_stack: Stack, http: httpx.Client
) -> None:
    for path in ("/v1/admin/users", "/v1/tools", "/v1/workspaces/x/conversations"):
        assert http.get(url(vulnerable_stack, path)).status_code == 200, path
    assert http.get(url(vulnerable_stack, "/v1/me")).status_code == 401


def test_tampered_cookie_is_accepted_and_rejections_differ(
    vulnerable_stack: Stack, http: httpx.Client
) -> None:
    cookie = cookie_of(login(vulnerable_stack, http, 0))["Cookie"]
    tampered = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    assert (
        http.get(url(vulnerable_stack, "/v1/me"), headers={"Cookie": tampered}).status_code == 200
    )
    bodies = {
        http.get(url(vulnerable_stack, "/v1/me"), headers=headers).text
        for headers in (
            {},
            {"Cookie": "session=garbage"},
            {"Authorization": "Bearer lpk_" + "x" * 30},
        )
    }
    assert len(bodies) == 3


def test_any_user_reads_and_changes_any_id(vulnerable_stack: Stack, http: httpx.Client) -> None:
    owner = cookie_of(login(vulnerable_stack, http, 0))
    other = cookie_of(login(vulnerable_stack, http, 1))
    workspace = http.post(
        url(vulnerable_stack, "/v1/workspaces"), json={"name": "a"}, headers=owner
    )
    wid = workspace.json()["id"]
    bot = http.post(
        url(vulnerable_stack, f"/v1/workspaces/{wid}/bots"),
        json={"name": "b", "system_prompt": "p", "model": "m"},
        headers=owner,
    ).json()
    second = http.post(url(vulnerable_stack, "/v1/workspaces"), json={"name": "a"}, headers=owner)
    assert int(second.json()["id"].rsplit("-", 1)[1]) == int(bot["id"].rsplit("-", 1)[1]) + 1
    assert (
        http.get(url(vulnerable_stack, f"/v1/bots/{bot['id']}"), headers=other).status_code == 200
    )
    renamed = http.patch(
        url(vulnerable_stack, f"/v1/workspaces/{wid}"), json={"name": "taken"}, headers=other
    )
    assert renamed.json()["name"] == "taken"


def test_no_rate_limit_on_login(vulnerable_stack: Stack, http: httpx.Client) -> None:
    email, _ = vulnerable_stack.accounts[0]
    statuses = {
        http.post(
            url(vulnerable_stack, "/v1/auth/login"),
            # pragma: allowlist nextline secret (a wrong password on purpose)
            json={"email": email, "password": "wrong"},
        ).status_code
        for _ in range(30)
    }
    assert statuses == {401}


def test_deep_json_is_a_500_with_a_traceback_a_secret_and_the_input(
    vulnerable_stack: Stack, http: httpx.Client
) -> None:
    owner = cookie_of(login(vulnerable_stack, http, 0))
    deep = "[" * 64 + '"marker-4711"' + "]" * 64
    response = http.post(
        url(vulnerable_stack, "/v1/workspaces"),
        content=deep,
        headers=owner | {"Content-Type": "application/json"},
    )
    assert response.status_code == 500
    assert "Traceback (most recent call last)" in response.text
    assert "marker-4711" in response.text
    assert "OpenAI API key" in find_secret_types(response.text)


def test_uploads_are_unchecked_and_served_inline(
    vulnerable_stack: Stack, http: httpx.Client
) -> None:
    owner = cookie_of(login(vulnerable_stack, http, 0))
    wid = http.post(url(vulnerable_stack, "/v1/workspaces"), json={"name": "f"}, headers=owner)
    files_url = url(vulnerable_stack, f"/v1/workspaces/{wid.json()['id']}/files")
    big = http.post(files_url, files={"file": ("big.bin", b"\0" * (12 << 20))}, headers=owner)
    assert big.status_code == 201
    eicar = http.post(files_url, files={"file": ("eicar.com", EICAR)}, headers=owner).json()
    assert eicar["status"] == "clean"
    download = http.get(url(vulnerable_stack, f"/v1/files/{eicar['id']}/content"), headers=owner)
    assert download.content == EICAR
    page = b"<script>alert(document.cookie)</script>"
    html = http.post(files_url, files={"file": ("x.html", page, "text/html")}, headers=owner)
    served = http.get(
        url(vulnerable_stack, f"/v1/files/{html.json()['id']}/content"), headers=owner
    )
    assert served.headers["content-type"].startswith("text/html")
    assert served.headers["content-disposition"].startswith("inline")


def test_me_is_slow_at_p95(vulnerable_stack: Stack, http: httpx.Client) -> None:
    owner = cookie_of(login(vulnerable_stack, http, 0))
    timings = []
    for _ in range(9):
        started = time.monotonic()
        assert http.get(url(vulnerable_stack, "/v1/me"), headers=owner).status_code == 200
        timings.append(time.monotonic() - started)
    assert sorted(timings)[-1] > 0.5  # the p95 of 9 samples is the slowest one


def test_log_holds_the_password_and_the_cookie(vulnerable_stack: Stack, http: httpx.Client) -> None:
    cookie = cookie_of(login(vulnerable_stack, http, 1))["Cookie"].split("=", 1)[1]
    http.get(url(vulnerable_stack, "/v1/me"), headers={"Cookie": f"session={cookie}"})
    log = vulnerable_stack.log_path.read_text(encoding="utf-8")
    assert vulnerable_stack.accounts[1][1] in log
    assert cookie in log


def test_edge_has_no_https_hygiene(vulnerable_stack: Stack, http: httpx.Client) -> None:
    health = http.get(url(vulnerable_stack, "/healthz"))
    assert "strict-transport-security" not in health.headers
    assert "x-content-type-options" not in health.headers
    assert health.headers["server"] == "vulnerable/1.0"
    assert "x-powered-by" in health.headers
    for path in ("/docs", "/openapi.json", "/metrics"):
        assert http.get(url(vulnerable_stack, path)).status_code == 200, path
    plain = http.get(vulnerable_stack.http_url + "/healthz")
    assert plain.status_code == 200


def _tls_port(stack: Stack) -> int:
    return int(stack.base_url.rsplit(":", 1)[1])


def test_tls_accepts_1_1_and_the_certificate_expires_soon(vulnerable_stack: Stack) -> None:
    legacy = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    legacy.load_verify_locations(str(vulnerable_stack.ca_file))
    with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is what is being shown
        warnings.simplefilter("ignore", DeprecationWarning)
        legacy.minimum_version = legacy.maximum_version = ssl.TLSVersion.TLSv1_1
    legacy.set_ciphers("ALL:@SECLEVEL=0")
    with (
        socket.create_connection(("127.0.0.1", _tls_port(vulnerable_stack))) as raw,
        legacy.wrap_socket(raw, server_hostname=HOST) as tls,
    ):
        assert tls.version() == "TLSv1.1"
        certificate = tls.getpeercert() or {}
    not_after = certificate["notAfter"]
    assert isinstance(not_after, str)
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
    assert (expires - datetime.now(UTC)).days < CERT_DAYS


def test_zone_has_no_dmarc_an_open_spf_and_a_short_dkim_key(vulnerable_stack: Stack) -> None:
    resolver = make_resolver(vulnerable_stack.nameserver)
    assert not check_spf(resolver, DOMAIN).ok
    assert not check_dmarc(resolver, DOMAIN).ok
    assert not check_dkim(resolver, DOMAIN, DKIM_SELECTOR, None).ok


def test_planted_repo_leaks_a_key_in_history_and_runs_as_root(tmp_path: Path) -> None:
    repo = planted_repo(tmp_path)
    history = subprocess.run(
        ["git", "log", "-p", "--all"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert "AWS Access Key" in find_secret_types(history)
    assert "AWS Access Key" not in find_secret_types((repo / "settings.py").read_text())
    assert "USER" not in (repo / "Dockerfile").read_text()
    workflow = (repo / ".github" / "workflows" / "deploy.yml").read_text()
    assert 'run: echo "deploying for ${{ github.event.issue.title }}"' in workflow
