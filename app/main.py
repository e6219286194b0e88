"""The application factory: settings check, lifespan, and the middleware order in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from app.api import api_router
from app.auth.passwords import PasswordService
from app.chat.provider import create_client
from app.core.config import Environment, Settings, get_settings
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.core.rate_limit import RateLimiter
from app.health.repository import DatabaseProbe

AUDIT_POOL_SIZE = 2


class InsecureConfiguration(RuntimeError):
    """Production refuses to start; the message names settings, never values."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    if settings.environment is Environment.PRODUCTION:
        problems = settings.production_problems()
        if problems:
            raise InsecureConfiguration("refusing to start: " + "; ".join(problems))
    settings.require_secret_key()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        async with app.state.sessionmaker() as session:
            # In every environment: a superuser or owner role would silently bypass RLS.
            problems = await DatabaseProbe(session).role_problems()
        if problems:
            await engine.dispose()
            raise InsecureConfiguration("refusing to start: " + "; ".join(problems))
        # Security events that must outlive a failing request (failed login, wrong current
        # password) are written on a pool of their own: a burst of such requests, each holding
        # a request connection while argon2 queues, can then never deadlock the main pool.
        audit_engine = create_engine(settings, pool_size=AUDIT_POOL_SIZE)
        app.state.audit_sessionmaker = create_sessionmaker(audit_engine)
        app.state.openai = create_client(settings)
        try:
            yield
        finally:
            await app.state.openai.close()
            await audit_engine.dispose()
            await engine.dispose()

    app = FastAPI(
        title="Launchproof",
        version=settings.release,
        lifespan=lifespan,
        docs_url="/docs" if settings.show_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.show_docs else None,
        debug=False,
    )
    app.state.settings = settings
    app.state.passwords = PasswordService(settings)
    app.state.rate_limiter = RateLimiter(settings)
    install_error_handlers(app)
    app.include_router(api_router)

    # Middleware, outermost last-added. Request order: request context (id, client IP) ->
    # trusted hosts -> CORS -> routes. The edge issue adds HTTPS, security headers, body limits
    # and rate limits here, in this one place.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[o for o in settings.allowed_origins if o not in ("*", "null")],
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Content-Type", "Authorization", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
        max_age=600,
    )
    if settings.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestContextMiddleware, trusted_proxies=settings.trusted_proxy_cidrs)
    return app
