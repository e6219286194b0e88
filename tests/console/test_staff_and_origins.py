"""Staff screens, and what another origin can do to a signed-in console user (C1, C5, C9).

The staff pages list users (hostile display names as text), suspend one (their session dies
at once) and show the audit log. Then a page on another origin, same site and cross site,
tries to read the API with the console user's cookie and to frame the console: CORS gives
it nothing to read, ``frame-ancestors 'none'`` gives it no frame.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.console.browser import XSS, Watched, sign_in, sign_in_with_code
from tests.console.conftest import screenshot
from tests.factories.mfa import enrol_totp, next_code
from tests.factories.users import create_actor, login, strong_password, unique_email
from tests.support import Database, Server, free_port, run_cli

FOREIGN_PAGE = b"<!doctype html><title>elsewhere</title><body>elsewhere</body>"
READ_ME = """async (api) => {
    try {
        const r = await fetch(api + '/v1/me', {credentials: 'include'});
        return 'read ' + r.status + ' ' + (await r.text());
    } catch (e) { return 'blocked: ' + e; }
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(FOREIGN_PAGE)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - quiet
        return


@pytest.fixture(scope="module")
def foreign_port() -> Iterator[int]:
    """A second loopback server: another origin (other port), or another site (localhost)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), _Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.checklist("C9", red="the suspend button is not wired to the admin API")
def test_staff_list_users_suspend_and_read_the_audit_log(
    tab: Watched, console: Server, db: Database
) -> None:
    email, password = unique_email("staff"), strong_password()
    made = run_cli(
        console.env, "create-user", "--email", email, "--admin", "--verified", stdin=password + "\n"
    )
    assert made.returncode == 0, made.stderr
    victim = create_actor(console, db, "victim")
    assert victim.patch("/v1/me", json={"display_name": XSS}).status_code == 200

    # Staff reach admin routes only with a second factor used in the last ten minutes
    # (docs/mfa.md): the factor is enrolled through the API, then the staff member signs in
    # through the console's own prompt, password then code, which leaves the session fresh.
    staff = login(console, email, password)
    enrol_totp(staff)
    page = tab.page("/#/signin")
    sign_in_with_code(page, staff, {"code": next_code(staff.totp_secret or "")})
    page.click("text=Users")
    page.fill("#user-search input", victim.email)
    page.click("#user-search button[type=submit]")
    page.wait_for_selector(f"button.suspend[data-email='{victim.email}']")
    assert page.text_content(".user-name") == XSS
    screenshot(page, "users")
    page.click(f"button.suspend[data-email='{victim.email}']")
    page.wait_for_selector("text=suspended: every session and key ended.")
    assert victim.get("/v1/me").status_code == 401

    page.click("text=Audit log")
    page.wait_for_selector("#audit-log")
    actions = page.locator("td code").all_text_contents()
    assert any("suspend" in action for action in actions), actions[:10]
    screenshot(page, "audit")
    tab.assert_clean(page)


@pytest.mark.checklist("C2", red="an admin route answers a user who is not staff")
def test_the_staff_pages_are_refused_to_others(tab: Watched, console: Server, db: Database) -> None:
    user = create_actor(console, db, "plain")
    page = tab.page("/#/signin")
    sign_in(page, user.email, user.password)
    assert page.query_selector("text=Audit log") is None  # not offered...
    page.goto("/#/admin/users")
    page.wait_for_selector("main .error")  # ...and refused by the API when forced
    tab.assert_clean(page)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"], ids=["same-site", "cross-site"])
@pytest.mark.checklist("C5", red="CORS reflects any Origin with credentials, or framing allowed")
def test_another_origin_can_neither_read_the_api_nor_frame_the_console(
    tab: Watched, console: Server, db: Database, foreign_port: int, host: str
) -> None:
    user = create_actor(console, db, "framed")
    email, password = user.email, user.password
    page = tab.page("/#/signin")
    sign_in(page, email, password)
    assert "read 200" in page.evaluate(READ_ME, "")  # positive control: same origin reads

    foreign = tab.context.new_page()
    foreign.goto(f"http://{host}:{foreign_port}/")
    outcome = foreign.evaluate(READ_ME, console.url)
    assert outcome.startswith("blocked: TypeError"), outcome
    foreign.evaluate(
        "(src) => { const f = document.createElement('iframe'); f.src = src;"
        " document.body.append(f); }",
        console.url + "/#/",
    )
    foreign.wait_for_timeout(1000)
    framed = [f for f in foreign.frames if f != foreign.main_frame]
    assert framed, "the iframe was not created"
    assert framed[0].query_selector("#view") is None  # refused: the console never loaded
    login(console, email, password)  # and the account is untouched
