"""Operator-side user creation (``python -m app create-user``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import TypeAdapter, ValidationError

from app.audit import service as audit
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.identity.models import User
from app.identity.passwords import PasswordService, password_problem
from app.users.emails import Email
from app.users.repository import UserRepository


async def create_user(
    settings: Settings, *, email: str, password: str, staff: bool, verified: bool
) -> uuid.UUID:
    try:
        normalised = TypeAdapter(Email).validate_python(email)
    except ValidationError:
        raise ValueError("not a valid e-mail address") from None
    problem = password_problem(password, email=normalised)
    if problem:
        raise ValueError(problem)
    password_hash = await PasswordService(settings).hash(password)
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            users = UserRepository(session)
            if await users.get_by_email(normalised) is not None:
                raise ValueError("a user with this e-mail already exists")
            user = User(
                id=uuid.uuid4(),
                email=normalised,
                password_hash=password_hash,
                is_staff=staff,
                email_verified_at=datetime.now(UTC) if verified else None,
            )
            await users.create(user)
            await audit.record(
                session,
                "admin.user_created_cli",
                target_type="user",
                target_id=user.id,
                details={"staff": staff},
            )
            return user.id
    finally:
        await engine.dispose()
