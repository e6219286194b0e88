"""The console's account flows in Chromium: sign up, the mailed links, sign in and out (C5).

Each mailed link is opened exactly as mailed (the page it names must exist), and every page
is watched: no CSP or Trusted Types violation, no dialog, no uncaught error, and the session
is never readable by page script.
"""

from __future__ import annotations

import httpx
import pytest

from tests.console.browser import Watched, mailed_link, sign_in
from tests.console.conftest import csp_reports_counted, screenshot
from tests.factories.users import login, signup, strong_password, unique_email
from tests.factories.workspaces import create_workspace
from tests.support import Database, Server

STORAGE = """() => ({cookie: document.cookie,
    local: localStorage.length, session: sessionStorage.length})"""


@pytest.mark.checklist("C5", red="a console script parses markup (TT) or the CSP is loosened")
def test_sign_up_verify_sign_in_and_out(tab: Watched, console: Server, db: Database) -> None:
    reported = csp_reports_counted(console)
    email, password = unique_email("console"), strong_password()
    page = tab.page("/#/signup")
    page.fill("#signup-form input[type=email]", email)
    page.fill("#signup-form input[type=password]", password)
    page.click("#signup-form button[type=submit]")
    page.wait_for_selector("#signup-done")

    page.goto(mailed_link(db, email, "verify_email"))
    page.wait_for_selector("#verified")
    assert "#token" not in page.url  # the token is scrubbed from the address bar
    page.goto("/#/signin")
    screenshot(page, "signin")
    sign_in(page, email, password)
    assert page.text_content("#whoami") == email

    seen = page.evaluate(STORAGE)
    assert seen == {"cookie": "", "local": 0, "session": 0}  # nothing for script to steal
    cookie = next(c for c in tab.context.cookies() if c["name"] == "__Host-lp_session")
    assert cookie["httpOnly"] is True

    page.click("#signout")
    page.wait_for_selector("#signin-form")
    assert page.evaluate("fetch('/v1/me').then((r) => r.status)") == 401
    tab.assert_clean(page)
    assert csp_reports_counted(console) == reported


@pytest.mark.checklist("C5", red="the reset page is missing (the mailed link 404s)")
def test_reset_password_from_the_mailed_link(tab: Watched, console: Server, db: Database) -> None:
    email, _ = signup(console, db)
    page = tab.page("/#/forgot")
    page.fill("#forgot-form input[type=email]", email)
    page.click("#forgot-form button[type=submit]")
    page.wait_for_selector("#flash:not([hidden])")

    page.goto(mailed_link(db, email, "password_reset"))
    new_password = strong_password()
    page.fill("#reset-form input[type=password]", new_password)
    page.click("#reset-form button[type=submit]")
    page.wait_for_selector("#reset-done")
    login(console, email, new_password)  # the new password works
    tab.assert_clean(page)


@pytest.mark.checklist("C2", red="the invitation page is missing (the mailed link 404s)")
def test_accept_an_invitation_from_the_mailed_link(
    tab: Watched, console: Server, db: Database
) -> None:
    owner = login(console, *signup(console, db))
    workspace_id = create_workspace(owner, "Invited to")
    email, password = signup(console, db)
    invited = owner.post(
        f"/v1/workspaces/{workspace_id}/invitations", json={"email": email, "role": "member"}
    )
    assert invited.status_code == 201, invited.text

    page = tab.page(mailed_link(db, email, "invitation"))
    sign_in(page, email, password)  # the page asks for a session, then accepts
    page.wait_for_selector("#invitation-accepted")
    page.click("#invitation-accepted a")
    page.wait_for_selector("#tab-bots")
    assert "Invited to" in (page.text_content("h2") or "")
    tab.assert_clean(page)


def test_every_mailed_path_is_a_console_page(console: Server) -> None:
    for path in ("/", "/verify-email", "/reset-password", "/invitations"):
        response = httpx.get(console.url + path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
