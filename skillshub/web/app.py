"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.middleware.trustedhost import TrustedHostMiddleware

from keys.sealing import MasterKey
from keys.store import ensure_master_key
from skillshub import __version__, jobs, logs, metrics
from skillshub.db import make_engine, session_scope, upgrade
from skillshub.files import private_dir
from skillshub.settings import Settings
from skillshub.verifier import verification_context
from skillshub.web import console, csrf, i18n, observability, proxies, security_headers
from skillshub.web.docs import install_docs
from skillshub.web.errors import install_error_handlers
from skillshub.web.limits import BodySizeLimit
from skillshub.web.pages import STATIC_DIR, templates
from skillshub.web.rate_limits import RateLimiter, limit_route
from skillshub.web.routes import (
    audit,
    backpack,
    catalogue,
    catalogue_pages,
    community,
    europass,
    gap,
    graduate_reviews,
    health,
    issuing,
    learner,
    organisations,
    verify,
    wallet,
)


def prepare(settings: Settings, engine: Engine) -> MasterKey:
    """Migrate the database and open the master key (checked against the database)."""
    private_dir(settings.data_dir)
    upgrade(engine)
    with session_scope(engine) as session:
        return ensure_master_key(session, settings.resolved_master_key())


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = engine or make_engine(settings.sqlalchemy_url)
    logs.configure(settings.log_level, settings.log_format)
    metrics.install_orm_counters()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # `skillshub serve` does both before uvicorn starts, to fail with a clear message.
        if not hasattr(app.state, "master_key"):
            app.state.master_key = prepare(settings, engine)
        if not hasattr(app.state, "verification"):
            app.state.verification = verification_context(settings)
        # Bulk jobs a crash left unfinished go on (skillshub.jobs), in the background.
        jobs.jobs_of(app.state).resume_interrupted()
        yield

    app = FastAPI(
        title="Skills Hub",
        version=__version__,
        description="Micro-credential catalogue, Open Badges 3.0 issuer and public verifier.",
        lifespan=lifespan,
        dependencies=[Depends(limit_route)],
        docs_url=None,  # install_docs: served without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.rate_limiter = RateLimiter(settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(csrf.CsrfCookie, secure=settings.base_url.startswith("https://"))
    app.add_middleware(i18n.LanguageCookie, secure=settings.base_url.startswith("https://"))
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    security_headers.install(app, hsts=settings.base_url.startswith("https://"))
    # Outermost: every answer counted and tagged with its request id, with the client's
    # address and scheme already taken from a trusted proxy's headers.
    observability.install(
        app,
        metrics.app_registry(engine) if settings.metrics != "off" else None,
        serve_route=settings.metrics == "on",
    )
    app.add_middleware(proxies.TrustedProxies, trusted=settings.trusted_proxies)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_docs(app)
    app.include_router(health.router)
    # Early: routes are matched in order, and verification is the busiest public API (its
    # paths are all fixed, so it shadows nothing of the routers after it).
    app.include_router(verify.router)
    app.include_router(organisations.router)
    app.include_router(audit.router)
    app.include_router(issuing.router)
    app.include_router(catalogue.router)
    app.include_router(community.router)
    app.include_router(community.public_router)
    app.include_router(gap.router)
    app.include_router(learner.router)
    app.include_router(backpack.router)
    app.include_router(graduate_reviews.router)
    app.include_router(europass.router)
    app.include_router(wallet.router)
    app.include_router(catalogue_pages.router)
    app.include_router(console.router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "home.html", {})

    return app


def worker_app() -> FastAPI:
    """The app of one `skillshub serve --workers N` process (uvicorn's factory)."""
    from skillshub.web import access_log

    access_log.install()
    return create_app()
