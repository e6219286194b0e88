"""A real browser against the running server: CORS, CSRF, cookie storage, as Chromium does (C5).

Debian's /usr/bin/chromium, driven by Playwright (never ``playwright install``), with a fresh
profile. Page origins are served by a tiny static server:

* ``http://127.0.0.1:<api>``: the API itself;
* ``http://127.0.0.1:<partner>``: same site, in ALLOWED_ORIGINS: the front end, where the user
  signs in, and the positive control;
* ``http://127.0.0.1:<foreign>``: same site (cookies ignore ports, so the session cookie IS sent),
  not allowed: only CORS and the server-side CSRF check stand in the way;
* ``http://localhost:<foreign>``: a different site, so SameSite=Lax applies as well.

CORS blocks reading, not sending: the unsafe cross-site POSTs reach the server, and the judge of
"refused" is the database (the session is not revoked), not the page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, BrowserContext, Page, sync_playwright
from tests.factories.users import signup
from tests.support import (
    Database,
    Server,
    Stub,
    base_env,
    free_port,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.checklist(
    "C5",
    red="grant CORS to a foreign origin, skip the server-side CSRF check, set the session cookie "
    "without HttpOnly, or hand a token to the page",
)

PAGE = b"<!doctype html><title>page</title><body>page</body>"


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - quiet
        return


def _serve_pages(port: int) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _PageHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@dataclass
class Site:
    api: Server
    partner: str  # same site, allowed origin
    foreign_same_site: str  # same site, not allowed
    foreign_cross_site: str  # other site, not allowed


@pytest.fixture(scope="module")
def site(db: Database, stub: Stub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    partner_port, foreign_port = free_port(), free_port()
    pages = [_serve_pages(partner_port), _serve_pages(foreign_port)]
    partner = f"http://127.0.0.1:{partner_port}"
    env = base_env(db, OPENAI_BASE_URL=stub.base_url, ALLOWED_ORIGINS=partner)
    api = start_server(env, Path(tmp_path_factory.mktemp("browser")) / "server.log")
    try:
        yield Site(
            api=api,
            partner=partner,
            foreign_same_site=f"http://127.0.0.1:{foreign_port}",
            foreign_cross_site=f"http://localhost:{foreign_port}",
        )
    finally:
        stop_server(api)
        for httpd in pages:
            httpd.shutdown()
            httpd.server_close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh, empty user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield context
        finally:
            context.close()


def sign_in(context: BrowserContext, site: Site, db: Database) -> tuple[Page, str]:
    """Sign up over HTTP, then sign in from the allowed front-end origin, the way the SPA does.

    (The API's own responses carry ``CSP: default-src 'none'``, so a page on the API origin cannot
    even fetch; the partner origin plays the front end.) Returns (partner page, user id).
    """
    email, password = signup(site.api, db)
    page = context.new_page()
    page.goto(site.partner + "/")
    result = page.evaluate(
        """async ([api, email, password]) => {
            const r = await fetch(api + '/v1/auth/login', {method: 'POST', credentials: 'include',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({email, password})});
            return {status: r.status, body: await r.json()};
        }""",
        [site.api.url, email, password],
    )
    assert result["status"] == 200, result
    return page, str(result["body"]["id"])


def live_sessions(db: Database, user_id: str) -> int:
    return int(
        db.scalar(
            "SELECT count(*) FROM user_session WHERE user_id = %s AND revoked_at IS NULL", user_id
        )
    )


READ_ME = """async (api) => {
    try {
        const r = await fetch(api + '/v1/me', {credentials: 'include'});
        return {read: true, status: r.status, body: await r.text()};
    } catch (e) {
        return {read: false, error: String(e)};
    }
}"""

# Every way a page can send an unsafe cross-origin request without a preflight.
ATTACKS = """async (api) => {
    const sent = [];
    const attempts = [
        () => fetch(api + '/v1/auth/logout', {method: 'POST', mode: 'no-cors',
            credentials: 'include'}),
        () => fetch(api + '/v1/auth/logout-all', {method: 'POST', mode: 'no-cors',
            credentials: 'include', headers: {'Content-Type': 'text/plain'}, body: '{}'}),
        () => fetch(api + '/v1/auth/logout', {method: 'POST', mode: 'no-cors',
            credentials: 'include', body: new URLSearchParams({a: '1'})}),
        () => fetch(api + '/v1/auth/logout', {method: 'POST', credentials: 'include',
            headers: {'Content-Type': 'application/json'}, body: '{}'}),
    ];
    for (const attempt of attempts) {
        try { await attempt(); sent.push('sent'); } catch (e) { sent.push(String(e)); }
    }
    return sent;
}"""

FORM_POST = """(api) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = api + '/v1/auth/logout-all';
    form.target = 'sink';
    const frame = document.createElement('iframe');
    frame.name = 'sink';
    document.body.append(frame, form);
    form.submit();
}"""


def test_session_cookie_is_httponly_and_nothing_is_in_web_storage(
    browser: BrowserContext, site: Site, db: Database
) -> None:
    partner, _ = sign_in(browser, site, db)
    cookies = {c["name"]: c for c in browser.cookies(site.api.url)}
    session = cookies["__Host-lp_session"]  # the browser holds it...
    assert session.get("httpOnly") is True
    assert session.get("sameSite") == "Lax"
    api_page = browser.new_page()
    api_page.goto(site.api.url + "/healthz")
    for page in (api_page, partner):
        seen = page.evaluate(
            """() => ({cookie: document.cookie,
                local: JSON.stringify(Object.entries(localStorage)),
                session: JSON.stringify(Object.entries(sessionStorage))})"""
        )
        assert "lp_session" not in seen["cookie"]  # ...but page script cannot read it
        assert session["value"] not in seen["cookie"]
        assert seen["local"] == "[]"
        assert seen["session"] == "[]"
    # And the cookie works: the front end is signed in.
    assert partner.evaluate(READ_ME, site.api.url)["status"] == 200


def test_an_allowed_origin_can_read_and_write_with_credentials(
    browser: BrowserContext, site: Site, db: Database
) -> None:
    """Positive control: the setup itself does not block credentialed cross-origin calls."""
    partner, user_id = sign_in(browser, site, db)
    me = partner.evaluate(READ_ME, site.api.url)
    assert me["read"] is True, me
    assert me["status"] == 200, me
    assert user_id in me["body"]
    assert live_sessions(db, user_id) == 1
    partner.evaluate(ATTACKS, site.api.url)  # the last one is a real, preflighted JSON logout
    assert live_sessions(db, user_id) == 0


@pytest.mark.parametrize("which", ["foreign_same_site", "foreign_cross_site"])
def test_a_foreign_page_can_neither_read_nor_change_state(
    browser: BrowserContext, site: Site, db: Database, which: str
) -> None:
    partner, user_id = sign_in(browser, site, db)
    foreign = browser.new_page()
    foreign.goto(getattr(site, which) + "/")

    me = foreign.evaluate(READ_ME, site.api.url)
    assert me["read"] is False, me  # CORS: no readable response
    assert "Failed to fetch" in me["error"]

    outcomes = foreign.evaluate(ATTACKS, site.api.url)
    # The no-cors ones are sent (with the cookie when same-site); their answers are then hidden
    # from the page (opaque, and CORP same-origin rejects them). The JSON one dies at its preflight.
    assert len(outcomes) == 4
    assert "Failed to fetch" in outcomes[3]
    foreign.evaluate(FORM_POST, site.api.url)
    foreign.wait_for_timeout(500)

    assert live_sessions(db, user_id) == 1  # every unsafe POST was refused server-side
    assert partner.evaluate(READ_ME, site.api.url)["status"] == 200
