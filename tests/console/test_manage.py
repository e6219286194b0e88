"""Files, API keys, webhook endpoints and members in the console (C2, C5, C8).

Hostile file names and display names render as text; an HTML upload is refused and a stored
text file full of markup only ever downloads; secrets appear once and nowhere page script
could keep them.
"""

from __future__ import annotations

import httpx
import pytest

from tests.browser.chromium import FilePayload
from tests.console.browser import XSS, Watched, owner_in_console
from tests.console.conftest import screenshot
from tests.factories.users import create_actor
from tests.support import Database, Server

STORAGE = "() => localStorage.length + sessionStorage.length + document.cookie.length"


@pytest.mark.checklist("C8", red="downloads lose Content-Disposition: attachment or the sandbox")
def test_upload_show_scan_status_and_never_execute_a_file(
    tab: Watched, console: Server, db: Database
) -> None:
    page, owner, workspace_id = owner_in_console(tab, db, "files")
    page.set_input_files(
        "#file-input",
        files=FilePayload(
            name="page.html",
            mimeType="text/html",
            buffer=b"<!doctype html><script>window.__pwned=1;alert(1)</script>",
        ),
    )
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector(".flash.error")  # refused from the bytes, shown as a problem
    assert "Markup" in (page.text_content("#flash") or "")

    name = XSS.replace("/", "") + ".txt"
    body = b"notes\n<script>window.__pwned=1;alert(1)</script>\n"
    page.set_input_files(
        "#file-input", files=FilePayload(name=name, mimeType="text/plain", buffer=body)
    )
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector(".file-name")
    stored = owner.get(f"/v1/workspaces/{workspace_id}/files").json()["items"]
    assert [f["name"] for f in stored] == [page.text_content(".file-name")]
    assert page.text_content(".scan-clean") == "clean (scanner off)"  # the scan status, shown
    screenshot(page, "files")

    with page.expect_download() as download:  # opened, it is a download, never a document
        page.click("text=Download")
    assert download.value.suggested_filename.endswith(".txt")
    opened = page.request.get(f"/v1/files/{stored[0]['id']}/content")
    assert opened.headers["content-disposition"].startswith("attachment")
    assert opened.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in opened.headers["content-security-policy"]
    other = tab.context.new_page()
    with pytest.raises(Exception, match="Download is starting"):
        other.goto(f"/v1/files/{stored[0]['id']}/content")
    tab.assert_clean(page, other)


@pytest.mark.checklist("C4", "C5", red="the console keeps the key in web storage or on screen")
def test_an_api_key_is_shown_once_and_kept_nowhere(
    tab: Watched, console: Server, db: Database
) -> None:
    page, _, workspace_id = owner_in_console(tab, db, "keys")
    page.fill("#key-form input[type=text]", "CI " + XSS)
    page.check("#key-form input[value='bots:read']")
    page.click("#key-form button[type=submit]")
    key = page.text_content("#secret-once .secret-value") or ""
    screenshot(page, "keys")
    works = httpx.get(
        f"{console.url}/v1/workspaces/{workspace_id}/bots",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert works.status_code == 200, works.text
    assert page.evaluate(STORAGE) == 0
    page.goto(f"/#/w/{workspace_id}/files")
    page.wait_for_selector("#tab-files")  # the keys screen is gone...
    page.goto(f"/#/w/{workspace_id}/keys")
    page.wait_for_selector("#tab-keys table")  # ...and drawn afresh
    assert page.query_selector("#secret-once") is None
    assert key not in (page.content())
    assert "CI " + XSS in (page.text_content("#tab-keys table") or "")
    page.click("text=Revoke")
    page.wait_for_selector("text=revoked")
    revoked = httpx.get(
        f"{console.url}/v1/workspaces/{workspace_id}/bots",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert revoked.status_code == 401
    tab.assert_clean(page)


def test_webhook_endpoint_test_event_and_redeliver(
    tab: Watched, console: Server, db: Database
) -> None:
    page, _, workspace_id = owner_in_console(tab, db, "webhooks")
    page.fill("#webhook-url", "http://127.0.0.2:9/hook")
    page.check("#webhook-form input[value='message.created']")
    page.click("#webhook-form button[type=submit]")
    assert (page.text_content("#secret-once .secret-value") or "").startswith("whsec_")
    page.click("text=Send test")
    page.wait_for_selector("#deliveries .delivery-status")
    assert page.text_content("#deliveries td") == "webhook.test"
    page.click("#deliveries .redeliver")
    page.wait_for_selector("text=Queued again.")
    screenshot(page, "webhooks")
    redelivered = db.scalar(
        "SELECT count(*) FROM audit_event WHERE action = 'webhook_delivery.redelivered' "
        "AND workspace_id = %s",
        workspace_id,
    )
    assert redelivered == 1
    tab.assert_clean(page)


@pytest.mark.checklist("C2", red="a display name rendered as HTML, or role changes not wired")
def test_members_invite_and_roles_with_a_hostile_display_name(
    tab: Watched, console: Server, db: Database
) -> None:
    page, owner, workspace_id = owner_in_console(tab, db, "members")
    member = create_actor(console, db, "member")
    assert member.patch("/v1/me", json={"display_name": XSS}).status_code == 200
    invited = owner.post(
        f"/v1/workspaces/{workspace_id}/invitations", json={"email": member.email, "role": "member"}
    )
    token = db.token_from_mail(member.email, "invitation")
    assert invited.status_code == 201
    assert member.post("/v1/invitations/accept", json={"token": token}).status_code == 200
    page.reload()
    page.wait_for_selector(".member-name")
    names = page.locator(".member-name").all_text_contents()
    assert XSS in names
    row = page.locator("tr", has_text=member.email)
    row.locator("select").select_option("viewer")
    row.locator("text=Change role").click()
    page.wait_for_selector("text=Role changed.")
    roles = owner.get(f"/v1/workspaces/{workspace_id}/members").json()["items"]
    assert {m["email"]: m["role"] for m in roles}[member.email] == "viewer"

    page.fill("#invite-email", "someone-new@example.com")
    page.click("#invite-form button[type=submit]")
    page.wait_for_selector("text=Invitation sent")
    assert db.last_mail("someone-new@example.com", "invitation")
    screenshot(page, "members")

    page.goto("/#/account")  # the console's own display name: set to a payload, shown as text
    page.fill("#profile-form input", XSS)
    page.click("#profile-form button[type=submit]")
    page.wait_for_selector("text=Saved.")
    assert page.text_content("#whoami") == XSS
    tab.assert_clean(page)
