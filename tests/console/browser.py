"""A watched browser context for the console tests: it records what must never happen."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.browser.chromium import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Browser,
    BrowserContext,
    Dialog,
    Page,
    sync_playwright,
)
from tests.factories.users import login, signup
from tests.factories.workspaces import create_workspace
from tests.support import Actor, Database, Server

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "Browser", "Page", "Watched", "sync_playwright"]

# Runs before any page script (Playwright injects it over CDP, outside the page's CSP): every
# CSP and Trusted Types violation the page raises is reported to the test.
WATCH = """
document.addEventListener('securitypolicyviolation', (e) =>
    window.__lpViolation(`${e.effectiveDirective} ${e.blockedURI} ${e.sample}`));
"""
# What an XSS payload in these tests does when it runs: set the flag, call alert().
PAYLOAD_FLAG = "__pwned"


@dataclass
class Watched:
    """A fresh browser context whose pages report violations, dialogs and uncaught errors."""

    context: BrowserContext
    server: Server
    violations: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.expose_function("__lpViolation", self._violation)
        self.context.add_init_script(WATCH)
        self.context.on("page", self._watch)

    def _violation(self, description: str) -> None:
        self.violations.append(description)

    def _watch(self, page: Page) -> None:
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def page(self, path: str = "/") -> Page:
        page = self.context.new_page()
        page.goto(path)
        return page

    def assert_clean(self, *pages: Page) -> None:
        """No CSP/Trusted Types violation, no dialog, no uncaught error, no payload ran."""
        for page in pages:
            assert page.evaluate(f"window.{PAYLOAD_FLAG}") is None, "an XSS payload ran"
        assert self.violations == [], self.violations
        assert self.dialogs == [], self.dialogs
        assert self.errors == [], self.errors


def mailed_link(db: Database, to: str, kind: str) -> str:
    """The exact link the platform mailed (the page it opens must exist)."""
    match = re.search(r"https?://\S+#token=[A-Za-z0-9_-]+", db.last_mail(to, kind))
    assert match is not None, f"no link in the {kind} mail"
    return match.group(0)


# Markup that runs script the moment anything parses it as HTML.
XSS = '<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=1</script>'


def sign_in(page: Page, email: str, password: str) -> None:
    """Through the console's own form (the page must already show it)."""
    page.fill("#signin-form input[type=email]", email)
    page.fill("#signin-form input[type=password]", password)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#signout")


def sign_in_with_code(page: Page, actor: Actor, proof: dict[str, str]) -> None:
    """Password, then the console's own second-factor prompt (an app code or a recovery code)."""
    page.fill("#signin-form input[type=email]", actor.email)
    page.fill("#signin-form input[type=password]", actor.password)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#second-factor-form")
    if "recovery_code" in proof:
        page.click("#signin-use-recovery")
        page.fill("#signin-recovery", proof["recovery_code"])
    else:
        page.fill("#signin-code", proof["code"])
    page.click("#second-factor-form button[type=submit]")
    page.wait_for_selector("#signout")
    # The landing page (the workspace list) renders after the nav: wait for it, so the next
    # step starts from a settled page (a late list no longer paints over: test_navigation.py).
    page.wait_for_selector("#workspace-form")


def owner_in_console(tab: Watched, db: Database, tab_name: str) -> tuple[Page, Actor, str]:
    """A fresh user owning a fresh workspace, signed in to the console on ``tab_name``."""
    email, password = signup(tab.server, db)
    owner = login(tab.server, email, password)
    workspace_id = create_workspace(owner, "Console studio")
    page = tab.page("/#/signin")
    sign_in(page, email, password)
    page.goto(f"/#/w/{workspace_id}/{tab_name}")
    page.wait_for_selector(f"#tab-{tab_name}")
    return page, owner, workspace_id
