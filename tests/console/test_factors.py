"""Second factors in the console (docs/mfa.md, docs/console.md), in a real Chromium (C1, C5).

The two-step sign-in's code prompt (an app code, a recovery code, a wrong code), enrolment on
the security page (the key shown as text, the recovery codes once), the step-up prompt any call
answered 401 step_up_required opens (confirm retries the call once; cancel changes nothing),
regenerating codes and removing the factor, the owner's policy switch behind step-up, and the
member the policy refuses sent to enrolment. Every flow ends with no CSP/Trusted Types
violation, no dialog or page error, and no token, secret or code in script-readable storage.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.browser import Page, Watched, sign_in, sign_in_with_code
from tests.console.conftest import screenshot
from tests.factories.mfa import enrol_totp, next_code
from tests.factories.users import login, signup, strong_password, unique_email
from tests.factories.workspaces import add_member, create_workspace
from tests.support import Actor, Database, Server, run_cli

STORAGE = """() => [document.cookie, JSON.stringify(Object.entries(localStorage)),
    JSON.stringify(Object.entries(sessionStorage)), localStorage.length + sessionStorage.length]"""


def _assert_nothing_stored(page: Page, *secrets: str) -> None:
    cookie, local, session, count = page.evaluate(STORAGE)
    assert cookie == ""
    assert count == 0, (local, session)
    for secret in secrets:
        assert secret not in cookie + local + session


def _age_factor(db: Database, user_id: str) -> None:
    """The session's factor is older than the step-up window (the server's clock is real)."""
    with db.connect() as conn:
        conn.execute(
            "UPDATE user_session SET factor_verified_at = now() - interval '11 minutes' "
            "WHERE user_id = %s",
            (user_id,),
        )


@pytest.fixture
def fresh_staff(console: Server) -> tuple[str, str]:
    """A staff account made with the CLI, as operators do, without a factor yet."""
    email, password = unique_email("staff"), strong_password()
    made = run_cli(
        console.env, "create-user", "--email", email, "--admin", "--verified", stdin=password + "\n"
    )
    assert made.returncode == 0, made.stderr
    return email, password


def _enrolled(console: Server, db: Database) -> tuple[Actor, list[str]]:
    email, password = signup(console, db)
    actor = login(console, email, password)
    codes = enrol_totp(actor)
    return actor, codes


def _step_up_in_dialog(page: Page, proof: dict[str, Any]) -> None:
    page.wait_for_selector("dialog#step-up[open]")
    if "recovery_code" in proof:
        page.click("#step-up-use-recovery")
        page.fill("#step-up-recovery", proof["recovery_code"])
    else:
        page.fill("#step-up-code", proof["code"])
    page.click("#step-up-form button[type=submit]")
    page.wait_for_selector("dialog#step-up", state="detached")


@pytest.mark.checklist("C1", red="the sign-in form ignores the 202 second_factor_required")
def test_sign_in_asks_for_a_code_then_a_recovery_code_works(
    tab: Watched, console: Server, db: Database
) -> None:
    actor, codes = _enrolled(console, db)
    assert actor.totp_secret is not None
    page = tab.page("/#/signin")
    # A wrong code keeps the prompt and says so; nothing is signed in.
    page.fill("#signin-form input[type=email]", actor.email)
    page.fill("#signin-form input[type=password]", actor.password)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#second-factor-form")
    screenshot(page, "second-factor")
    page.fill("#signin-code", "000000")
    page.click("#second-factor-form button[type=submit]")
    page.wait_for_selector("#flash.error")
    assert page.query_selector("#signout") is None
    page.fill("#signin-code", next_code(actor.totp_secret))
    page.click("#second-factor-form button[type=submit]")
    page.wait_for_selector("#signout")
    _assert_nothing_stored(page, actor.totp_secret)
    page.click("#signout")
    page.wait_for_selector("#signin-form")

    page.goto("/#/signin")
    sign_in_with_code(page, actor, {"recovery_code": codes[0]})
    assert (
        db.scalar(
            "SELECT count(*) FROM recovery_code WHERE user_id = %s AND used_at IS NULL",
            actor.user_id,
        )
        == len(codes) - 1
    )
    _assert_nothing_stored(page, actor.totp_secret, *codes)
    tab.assert_clean(page)


@pytest.mark.checklist("C1", red="the security page keeps the recovery codes after it is left")
def test_enrol_in_the_console_codes_once_step_up_regenerate_and_remove(
    tab: Watched, console: Server, db: Database
) -> None:
    email, password = signup(console, db)
    user_id = str(db.scalar("SELECT id::text FROM user_account WHERE email = %s", email))
    page = tab.page("/#/signin")
    sign_in(page, email, password)
    page.wait_for_selector("#workspace-form")  # the landing page, before going elsewhere
    page.click("#security-nav")
    page.click("#enrol-totp")
    secret = (page.text_content("#totp-secret") or "").strip()
    uri = page.text_content("#totp-uri") or ""
    assert len(secret) >= 16
    assert uri.startswith("otpauth://totp/")
    assert f"secret={secret}" in uri
    page.fill("#confirm-code", next_code(secret))
    page.click("#confirm-form button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    codes = page.locator("#recovery-codes li").all_text_contents()
    assert len(codes) == 10
    assert db.scalar("SELECT count(*) FROM totp_factor WHERE user_id = %s", user_id) == 1
    assert page.query_selector("#totp-secret") is None  # the key went with the enrolment step
    screenshot(page, "recovery-codes")
    _assert_nothing_stored(page, secret, *codes)

    # Left, then back (and back in history): the codes are nowhere in the page any more.
    page.click("#codes-saved")
    page.wait_for_selector("#workspace-form")
    page.go_back()
    page.wait_for_selector("#factor-status")
    page.goto("/#/security")
    page.wait_for_selector("#factor-status")
    html = page.content()
    assert all(code not in html for code in codes)
    assert secret not in html
    assert "Recovery codes left: 10." in (page.text_content("#factor-status") or "")

    # A stale factor: regenerating asks for a code; Cancel changes nothing.
    _age_factor(db, user_id)
    before = db.snapshot("recovery_code", "totp_factor")
    page.click("#regenerate-codes")
    page.wait_for_selector("dialog#step-up[open]")
    page.click("#step-up-cancel")
    page.wait_for_selector("#flash.error")
    assert db.snapshot("recovery_code", "totp_factor") == before
    # Confirm: the call is sent once more and the new codes are shown once.
    page.click("#regenerate-codes")
    _step_up_in_dialog(page, {"code": next_code(secret)})
    page.wait_for_selector("#recovery-codes")
    fresh = page.locator("#recovery-codes li").all_text_contents()
    assert len(fresh) == 10
    assert not set(fresh) & set(codes)

    # Remove the factor (two clicks; the session was just stepped up).
    page.click("#codes-saved")
    page.wait_for_selector("#workspace-form")
    page.click("#security-nav")
    page.click("#disable-totp")
    page.click("#disable-totp-confirm")
    page.wait_for_selector("#enrol-start")
    assert db.scalar("SELECT count(*) FROM totp_factor WHERE user_id = %s", user_id) == 0
    _assert_nothing_stored(page, secret, *codes, *fresh)
    tab.assert_clean(page)


@pytest.mark.checklist(
    "C1", red="the console does not send a member refused by the factor policy to enrolment"
)
def test_the_owner_requires_a_factor_and_a_member_is_sent_to_enrol(
    tab: Watched, console: Server, db: Database
) -> None:
    owner, owner_codes = _enrolled(console, db)
    assert owner.totp_secret is not None
    workspace = create_workspace(owner, "Factor studio")
    member = add_member(console, db, owner, workspace, "member")

    page = tab.page("/#/signin")
    sign_in_with_code(page, owner, {"code": next_code(owner.totp_secret)})
    _age_factor(db, owner.user_id)
    page.goto(f"/#/w/{workspace}/members")
    page.wait_for_selector("#policy-form")
    page.check("#require-second-factor")
    before = db.snapshot("workspace")
    page.click("#policy-form button[type=submit]")
    # The switch needs a fresh factor: the prompt, here with a recovery code, then the retry.
    page.wait_for_selector("dialog#step-up[open]")
    assert db.snapshot("workspace") == before
    screenshot(page, "step-up")
    _step_up_in_dialog(page, {"recovery_code": owner_codes[0]})
    page.wait_for_selector("text=Members now need a second factor.")
    assert db.scalar("SELECT require_second_factor FROM workspace WHERE id = %s", workspace)
    page.click("#signout")
    page.wait_for_selector("#signin-form")

    # The member, without a factor: the workspace sends them to enrolment, saying why.
    sign_in(page, member.email, member.password)
    page.wait_for_selector("#workspace-form")
    page.goto(f"/#/w/{workspace}")
    page.wait_for_selector("#enrol-notice")
    assert "requires" in (page.text_content("#enrol-notice") or "")
    assert page.url.endswith("#/security")
    page.click("#enrol-totp")
    secret = (page.text_content("#totp-secret") or "").strip()
    page.fill("#confirm-code", next_code(secret))
    page.click("#confirm-form button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    page.goto(f"/#/w/{workspace}")
    page.wait_for_selector("#tab-bots")
    _assert_nothing_stored(page, secret, owner.totp_secret)
    tab.assert_clean(page)


@pytest.mark.checklist("C1", red="a staff refusal for want of a factor is shown as a dead end")
def test_staff_without_a_factor_are_sent_to_enrol_then_reach_the_staff_pages(
    tab: Watched, console: Server, db: Database, fresh_staff: tuple[str, str]
) -> None:
    email, password = fresh_staff
    page = tab.page("/#/signin")
    sign_in(page, email, password)  # no factor yet: one step
    page.wait_for_selector("#workspace-form")  # the landing page, before going elsewhere
    page.click("text=Users")
    page.wait_for_selector("#enrol-notice")
    assert "second factor" in (page.text_content("#enrol-notice") or "")
    page.click("#enrol-totp")
    secret = (page.text_content("#totp-secret") or "").strip()
    page.fill("#confirm-code", next_code(secret))
    page.click("#confirm-form button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    page.click("text=Users")
    page.wait_for_selector("#user-search")
    _assert_nothing_stored(page, secret)
    tab.assert_clean(page)
