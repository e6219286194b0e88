"""Passkeys in a real Chromium with the DevTools virtual authenticator (C1).

The API runs with ``PUBLIC_URL=http://localhost:<port>`` (WebAuthn refuses IP addresses as RP
id; ``localhost`` is a secure context). Pages of the API's own origin (the console at ``/``)
call ``navigator.credentials.create/get`` through ``page.evaluate``, with options from the API
and the credential's ``toJSON()`` posted back, as a client does. The phishing page is served
from another loopback host name, ``http://evil.localhost:<port>``: Chromium signs for that page's
origin and RP id, and the API must refuse what it relays.

Virtual authenticators: CTAP2, internal transport, resident keys, user verification (verified).
``WebAuthn.getCredentials`` exports a credential with its private key and counter;
``WebAuthn.addCredential`` plants it in another authenticator (a clone, or the phishing page's).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, Browser, Page, sync_playwright
from tests.factories.users import signup
from tests.support import Database, Server, Stub, base_env, free_port, start_server, stop_server

PASSKEYS = "/v1/me/second-factors/passkeys"
PASSKEY_OPTIONS = "/v1/me/second-factors/passkey-options"
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}
POST = """async ([path, body]) => {
    const r = await fetch(path, {method: 'POST', credentials: 'same-origin',
        headers: body === null ? {} : {'Content-Type': 'application/json'},
        body: body === null ? undefined : JSON.stringify(body)});
    return {status: r.status, body: await r.json().catch(() => null)};
}"""
CREATE = """async (options) => {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
    return (await navigator.credentials.create({publicKey})).toJSON();
}"""
GET = """async (options) => {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
    return (await navigator.credentials.get({publicKey})).toJSON();
}"""
PAGE = b"<!doctype html><title>not launchproof</title><body>sign in here</body>"


class _Phish(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - quiet
        return


@dataclass
class Site:
    api: Server
    phish: str  # another loopback host name and port


@pytest.fixture(scope="module")
def site(db: Database, stub: Stub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _Phish)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    env = base_env(db, OPENAI_BASE_URL=stub.base_url)
    api = start_server(
        env, Path(tmp_path_factory.mktemp("passkeys")) / "server.log", public_host="localhost"
    )
    try:
        yield Site(api=api, phish=f"http://evil.localhost:{port}")
    finally:
        stop_server(api)
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Tab:
    """A page with its own virtual authenticator (a fresh browser context: a fresh cookie jar)."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        page.goto(url)
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.authenticator = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR}
        )["authenticatorId"]

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        result: dict[str, Any] = self.page.evaluate(POST, [path, body])
        return result

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.page.evaluate(CREATE, options)
        return created

    def get(self, options: dict[str, Any]) -> dict[str, Any]:
        got: dict[str, Any] = self.page.evaluate(GET, options)
        return got

    def credentials(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator}
        )["credentials"]
        return found

    def plant(self, credential: dict[str, Any]) -> None:
        self.cdp.send(
            "WebAuthn.addCredential",
            {"authenticatorId": self.authenticator, "credential": credential},
        )


def _tab(chromium: Browser, url: str) -> Tab:
    return Tab(chromium.new_context().new_page(), url)


def _registered(chromium: Browser, site: Site, db: Database) -> tuple[Tab, str, str]:
    """A new account signed in on the console page, with a passkey registered in Chromium."""
    email, password = signup(site.api, db)
    tab = _tab(chromium, site.api.url + "/")
    assert tab.post("/v1/auth/login", {"email": email, "password": password})["status"] == 200
    options = tab.post(PASSKEY_OPTIONS)
    assert options["status"] == 200, options
    credential = tab.create(options["body"]["publicKey"])
    created = tab.post(PASSKEYS, {"name": "Chromium", "passkey": credential})
    assert created["status"] == 201, created
    return tab, email, password


def _passkey_sign_in(tab: Tab, via: Tab | None = None) -> dict[str, Any]:
    """Sign in with a passkey alone on ``tab``; ``via`` another page that answers the prompt."""
    options = tab.post("/v1/auth/login/passkey/options")
    assert options["status"] == 200, options
    public_key = options["body"]["publicKey"]
    if via is not None:
        public_key = dict(public_key, rpId="evil.localhost")
    answer = (via or tab).get(public_key)
    return tab.post("/v1/auth/login/passkey", {"passkey": answer})


def _passkeys(db: Database, email: str) -> list[tuple[Any, ...]]:
    return db.rows(
        "SELECT p.id, p.sign_count, p.last_used_at FROM passkey p "
        "JOIN user_account u ON u.id = p.user_id WHERE u.email = %s",
        email,
    )


def test_register_and_sign_in_with_the_passkey_alone(
    chromium: Browser, site: Site, db: Database
) -> None:
    tab, email, _ = _registered(chromium, site, db)
    [stored] = tab.credentials()
    assert stored["isResidentCredential"] is True
    assert stored["rpId"] == "localhost"
    fresh = _tab(chromium, site.api.url + "/")
    fresh.plant(stored)  # the same authenticator, in a browser with no session
    signed_in = _passkey_sign_in(fresh)
    assert signed_in["status"] == 200, signed_in
    assert signed_in["body"]["email"] == email
    me = fresh.page.evaluate("async () => (await fetch('/v1/auth/mfa')).json()")
    assert me["passkeys"] == 1
    assert me["factor_verified_at"] is not None  # the passkey counts as a factor
    [(_, count, used)] = _passkeys(db, email)
    assert count > 0
    assert used is not None


def test_passkey_as_the_second_factor_of_a_password_sign_in(
    chromium: Browser, site: Site, db: Database
) -> None:
    tab, email, password = _registered(chromium, site, db)
    second = _tab(chromium, site.api.url + "/")
    second.plant(tab.credentials()[0])
    first = second.post("/v1/auth/login", {"email": email, "password": password})
    assert first["status"] == 202, first
    assert "passkey" in first["body"]["methods"]
    options = second.post("/v1/auth/login/second-factor/passkey-options")
    assert options["status"] == 200, options
    answer = second.get(options["body"]["publicKey"])
    done = second.post("/v1/auth/login/second-factor", {"passkey": answer})
    assert done["status"] == 200, done
    assert done["body"]["email"] == email


@pytest.mark.checklist(
    "C1",
    red="take the RP id and origin from the response instead of PUBLIC_URL in webauthn._server",
)
def test_a_phishing_page_on_another_host_is_refused(
    chromium: Browser, site: Site, db: Database
) -> None:
    tab, email, _ = _registered(chromium, site, db)
    [stored] = tab.credentials()
    before = _passkeys(db, email)
    # The same key, as the authenticator would hold it for the phishing site's RP id.
    phish = Tab(tab.page.context.new_page(), site.phish + "/")
    phish.plant(dict(stored, rpId="evil.localhost"))
    relayed = _passkey_sign_in(tab, via=phish)
    assert relayed["status"] == 403, relayed
    assert relayed["body"]["code"] == "passkey_rejected"
    # Registration relayed through the phishing page: a new key for the wrong origin and RP id.
    options = tab.post(PASSKEY_OPTIONS)["body"]["publicKey"]
    relayed_options = dict(
        options, rp={"id": "evil.localhost", "name": "Launchproof"}, excludeCredentials=[]
    )
    phished = phish.create(relayed_options)
    refused = tab.post(PASSKEYS, {"name": "phished", "passkey": phished})
    assert refused["status"] == 403, refused
    assert refused["body"]["code"] == "passkey_rejected"
    assert _passkeys(db, email) == before


@pytest.mark.checklist(
    "C1", red="accept any counter in PasskeyRepository.claim_use (drop the sign_count condition)"
)
def test_a_cloned_authenticator_is_refused(chromium: Browser, site: Site, db: Database) -> None:
    tab, email, _ = _registered(chromium, site, db)
    [exported] = tab.credentials()  # the key and its counter, copied now
    first = _tab(chromium, site.api.url + "/")
    first.plant(exported)
    assert _passkey_sign_in(first)["status"] == 200
    assert _passkey_sign_in(first)["status"] == 200
    before = _passkeys(db, email)
    clone = _tab(chromium, site.api.url + "/")
    clone.plant(exported)  # the copy with the old counter
    refused = _passkey_sign_in(clone)
    assert refused["status"] == 403, refused
    assert refused["body"]["code"] == "passkey_rejected"
    assert "counter" in refused["body"]["detail"]
    assert _passkeys(db, email) == before
    assert "counter went backwards" in db.last_mail(email, "security_notice")
