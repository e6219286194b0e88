"""A screen that arrives late never paints over the screen the reviewer has moved on to.

Every console screen awaits the API before it renders. The workspace list is held back (the
browser's own request interception delays ``GET /v1/workspaces`` by two seconds), the reviewer
opens the account page meanwhile, then the list arrives: the account page must still be there
and the list must not (app/console/static/dom.js numbers each navigation; a late render goes
into a detached element).
"""

from __future__ import annotations

import time

from playwright.sync_api import Route

from tests.console.browser import Watched, sign_in
from tests.factories.users import signup
from tests.support import Database

DELAY_SECONDS = 2.0


def test_a_late_screen_does_not_replace_the_current_one(tab: Watched, db: Database) -> None:
    email, password = signup(tab.server, db)
    page = tab.page("/#/signin")
    sign_in(page, email, password)
    page.wait_for_selector("#workspace-form")
    held: list[str] = []

    def hold_back(route: Route) -> None:
        held.append(route.request.url)
        time.sleep(DELAY_SECONDS)  # Playwright's sync handler: the response waits meanwhile
        route.continue_()

    page.route("**/v1/workspaces?*", hold_back)
    page.route("**/v1/workspaces", hold_back)
    page.evaluate("location.hash = '#/again'")  # an unknown screen shows the list: now slow
    page.evaluate("location.hash = '#/account'")  # moved on before it arrived
    page.wait_for_selector("h2:text('Account')")
    page.wait_for_timeout(DELAY_SECONDS * 1000 + 1500)  # the list has arrived by now
    assert held, "the workspace list was never requested: the test held nothing back"
    assert page.query_selector("h2:text('Account')") is not None
    assert page.query_selector("#workspace-form") is None, "the late list painted over"
    tab.assert_clean(page)
