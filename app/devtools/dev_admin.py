"""The first staff account for ``make run``: created once, with a password printed once.

No default password exists anywhere: the password is random, shown on this terminal only, and
never stored except as its argon2 hash.
"""

from __future__ import annotations

import secrets

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.users.admin_cli import create_user
from app.users.repository import UserRepository

FIRST_ADMIN_EMAIL = "admin@example.com"


async def ensure_first_admin(settings: Settings) -> str:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            exists = await UserRepository(session).get_by_email(FIRST_ADMIN_EMAIL) is not None
    finally:
        await engine.dispose()
    if exists:
        return (
            f"Sign in as {FIRST_ADMIN_EMAIL} with the password printed on first run, or create "
            "another account: python -m app create-user --email you@example.com --admin --verified"
        )
    password = secrets.token_urlsafe(18)
    await create_user(
        settings, email=FIRST_ADMIN_EMAIL, password=password, staff=True, verified=True
    )
    return (
        "First staff account created (shown once, store it now):\n"
        f"  e-mail:   {FIRST_ADMIN_EMAIL}\n  password: {password}\n"
        f"Sign in: open {settings.public_url}/ (the console), or POST "
        f"{settings.public_url}/v1/auth/login with that JSON ({settings.public_url}/docs)"
    )
