"""Users through the public API: sign up, confirm from the outbox mail, sign in."""

from __future__ import annotations

import secrets

from tests.support import Actor, Anonymous, Database, Server, session_cookie


def unique_email(label: str = "user") -> str:
    return f"{label}-{secrets.token_hex(6)}@example.com"


def strong_password() -> str:
    return "pw-" + secrets.token_urlsafe(18)


def signup(
    server: Server, db: Database, *, email: str | None = None, verify: bool = True
) -> tuple[str, str]:
    email = email or unique_email()
    password = strong_password()
    response = Anonymous(server).post(
        "/v1/auth/signup", json={"email": email, "password": password}
    )
    assert response.status_code == 202, response.text
    if verify:
        token = db.token_from_mail(email, "verify_email")
        confirmed = Anonymous(server).post("/v1/auth/verify-email", json={"token": token})
        assert confirmed.status_code == 202, confirmed.text
    return email, password


def login(server: Server, email: str, password: str) -> Actor:
    response = Anonymous(server).post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return Actor(
        server=server,
        email=email,
        password=password,
        user_id=response.json()["id"],
        cookie=session_cookie(response),
    )


def create_actor(server: Server, db: Database, label: str = "user") -> Actor:
    email, password = signup(server, db, email=unique_email(label))
    return login(server, email, password)
