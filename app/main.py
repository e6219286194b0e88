"""The application factory: settings check, lifespan, and the middleware order in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import PUBLIC_ROUTES, include_api
from app.chat.provider import create_client
from app.core.api_description import api_description
from app.core.body_limit import BodyLimits
from app.core.config import Environment, Settings, get_settings
from app.core.cors import StrictCORS
from app.core.db import create_engine, create_sessionmaker
from app.core.docs import docs_routes
from app.core.error_reporting import init_error_reporting
from app.core.errors import install_error_handlers
from app.core.hosts import TrustedHosts
from app.core.https import HTTPSOnly
from app.core.logging import configure_logging
from app.core.methods import MethodTable
from app.core.middleware import EdgeMiddleware
from app.core.openapi import install_contract
from app.core.rate_limit import RateLimiter
from app.core.security_headers import SecurityHeaders
from app.files.scanning import scanner_client
from app.files.storage import shared_storage
from app.files.upload_slots import UploadSlots
from app.health.dependencies import DependencyMonitor
from app.health.repository import DatabaseProbe
from app.identity.passwords import PasswordService

AUDIT_POOL_SIZE = 2


class InsecureConfiguration(RuntimeError):
    """Production refuses to start; the message names settings, never values."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    init_error_reporting(settings)
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
        # Keeps launchproof_dependency_up current for the alerts (docs/decisions/0013).
        monitor_task = asyncio.create_task(app.state.dependency_monitor.run(app))
        try:
            yield
        finally:
            monitor_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor_task
            await app.state.openai.close()
            await app.state.upload_slots.close()
            await audit_engine.dispose()
            await engine.dispose()

    app = FastAPI(
        title="Launchproof",
        version=settings.release,
        description=api_description(settings),
        lifespan=lifespan,
        docs_url=None,  # app/core/docs.py serves /docs from local assets
        redoc_url=None,
        openapi_url="/openapi.json" if settings.show_docs else None,
        debug=False,
        # A wrong path is a 404 problem: Starlette's slash redirect answered `GET /v1/me/` with
        # a 307 to plain http (whatever the proxy said) and revealed routes such as /metrics.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.passwords = PasswordService(settings)
    app.state.rate_limiter = RateLimiter(settings)
    app.state.dependency_monitor = DependencyMonitor()
    # --- Files: object storage and the scanner readiness probes (app/files) ---
    app.state.storage = shared_storage(settings)
    app.state.upload_slots = UploadSlots(settings)
    app.state.scanner = scanner_client(settings)
    install_error_handlers(app)
    include_api(app)
    if settings.show_docs:
        app.router.routes.extend(docs_routes())
    install_contract(
        app,
        public_routes=PUBLIC_ROUTES,
        cookie_name=settings.session_cookie_name,
        description=app.description,
    )

    # One middleware, the edge (app/core/middleware.py): the drain outermost (an event stream
    # cut by shutdown still ends with an SSE error event), then, in request order, the request
    # context (id, client IP; so every answer below, 400/403/413 included, carries X-Request-ID)
    # -> HTTPS only (production) -> trusted hosts -> body limits -> CORS -> methods -> routes;
    # security headers on every response. Exact origins only, credentials for those only, no
    # CORS header at all for others (app/core/cors.py has the policy). Innermost: HEAD, OPTIONS
    # and 405's Allow from the route table (app/core/methods.py); CORS preflights are answered
    # before they get there.
    production = settings.environment is Environment.PRODUCTION
    app.add_middleware(
        EdgeMiddleware,
        trusted_proxies=settings.trusted_proxy_cidrs,
        cloudflare_proxies=settings.cloudflare_proxy_cidrs,
        security_headers=SecurityHeaders(
            hsts=production,
            docs_enabled=settings.show_docs,
            session_cookie_name=settings.session_cookie_name,
        ),
        https=HTTPSOnly(public_url=settings.public_url) if production else None,
        hosts=TrustedHosts(allowed_hosts=settings.allowed_hosts)
        if settings.allowed_hosts
        else None,
        bodies=BodyLimits(
            default_bytes=settings.max_request_body_bytes,
            upload_bytes=settings.max_upload_body_bytes,
            webhook_bytes=settings.max_webhook_body_bytes,
            body_timeout=settings.request_body_timeout_seconds,
        ),
        cors=StrictCORS([o for o in settings.allowed_origins if o not in ("*", "null")]),
        methods=MethodTable(app.router.routes),
    )
    return app
