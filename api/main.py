"""The FastAPI application: routers, middleware, error shape and shared clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api.audit import audit_admin_writes
from api.draining import Drain
from api.errors import install_error_handlers
from api.metrics import DatabaseStateCollector
from api.middleware import RequestIdMiddleware
from api.openapi import install_openapi
from api.ops_metrics import OverdueOrdersCollector
from api.pages import admin as page_admin
from api.pages import auth as page_auth
from api.pages import connect_app as page_connect
from api.pages import merchant as page_merchant
from api.pages import notifications as page_notifications
from api.pages import teamlead as page_teamlead
from api.pages import trader as page_trader
from api.pages import trader_work as page_trader_work
from api.pages.csrf import protect_forms
from api.pages.render import install_pages
from api.ratelimit import RateLimits, limit_by_ip
from api.routes import (
    auth,
    callbacks,
    category_rules,
    connect,
    dashboard,
    deposits,
    disputes_admin,
    fraud_admin,
    fx_admin,
    gateway,
    health,
    insights,
    merchant,
    merchant_cabinet,
    mfa,
    notifications,
    processing_admin,
    reference,
    reference_admin,
    reports,
    settings_admin,
    statement,
    teamlead,
    teams_admin,
    trader,
    users_admin,
    withdrawals,
)
from core.context import ServiceContext
from core.logging import configure_logging, install_request_id
from core.metrics import HttpMetricsMiddleware, warm_routes
from core.observability import init_sentry
from core.settings import Settings, get_settings
from processing.platform.settings import PlatformSettingsCache


def create_app(settings: Settings | None = None, context: ServiceContext | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_request_id()
    init_sentry(settings, "api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = context or ServiceContext.build(settings)
        app.state.ctx = ctx
        app.state.state_collector = DatabaseStateCollector(ctx.engine)
        app.state.overdue_collector = OverdueOrdersCollector(ctx.engine)
        app.state.platform_settings = PlatformSettingsCache(ctx.engine, ctx.settings)
        warm_routes(app)
        app.state.drain.install()
        yield
        await app.state.rate_limits.close()
        if context is None:
            await ctx.close()

    app = FastAPI(
        title="JivaPay API",
        version="0.1.0",
        description="P2P processing gateway and open-banking aggregator on Temporal.",
        lifespan=lifespan,
        # Per client address on every /api request, before any authentication.
        dependencies=[Depends(limit_by_ip)],
    )
    app.state.rate_limits = RateLimits(settings)
    app.state.drain = Drain(settings.shutdown_drain_seconds)
    install_error_handlers(app)
    install_openapi(app)
    # Forms of cookie sessions carry a CSRF token (the JSON API under /api/ is skipped).
    app.add_middleware(protect_forms, settings=settings)
    # Counts, times and logs every request (an error escaping the app as its 500), inside
    # the request id's middleware so its line carries the id.
    app.add_middleware(HttpMetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    install_pages(app)
    pages_modules = (page_auth, page_connect, page_trader, page_trader_work, page_notifications)
    for pages in (*pages_modules, page_merchant, page_admin, page_teamlead):
        app.include_router(pages.router)
    app.include_router(auth.router, prefix="/api/auth", tags=["auth"])
    app.include_router(mfa.router, prefix="/api/auth/mfa", tags=["auth"])
    # Early: routes are matched in order, and the dashboard is the Connect app's hottest read.
    app.include_router(dashboard.router, prefix="/api", tags=["connect"])
    app.include_router(merchant.router, prefix="/api/merchant", tags=["merchant"])
    app.include_router(merchant_cabinet.router, prefix="/api/merchant", tags=["merchant"])
    app.include_router(reference.router, prefix="/api/reference", tags=["reference"])
    app.include_router(notifications.router, prefix="/api/me", tags=["notifications"])
    # Before connect's routes: /transactions/summary must not be taken for a transaction id.
    app.include_router(insights.router, prefix="/api", tags=["connect"])
    # Staff writes under /api/admin are audited (who, what, before and after).
    audited = [Depends(audit_admin_writes)]
    app.include_router(
        category_rules.router, prefix="/api/admin", tags=["admin"], dependencies=audited
    )
    app.include_router(connect.router, prefix="/api", tags=["connect"])
    app.include_router(
        connect.admin_router, prefix="/api/admin", tags=["admin"], dependencies=audited
    )
    app.include_router(gateway.router, prefix="/api/gateway", tags=["gateway"])
    app.include_router(callbacks.router, prefix="/api/gateway", tags=["gateway"])
    app.include_router(trader.router, prefix="/api/trader", tags=["trader"])
    app.include_router(statement.router, prefix="/api/trader", tags=["trader"])
    app.include_router(statement.admin_router, prefix="/api/admin", tags=["admin"])
    app.include_router(
        processing_admin.router, prefix="/api/admin", tags=["admin"], dependencies=audited
    )
    app.include_router(
        disputes_admin.router, prefix="/api/admin", tags=["admin"], dependencies=audited
    )
    app.include_router(
        fraud_admin.router, prefix="/api/admin", tags=["admin"], dependencies=audited
    )
    app.include_router(
        users_admin.router, prefix="/api/admin", tags=["admin"], dependencies=audited
    )
    app.include_router(fx_admin.router, prefix="/api/admin", tags=["admin"], dependencies=audited)
    app.include_router(
        reference_admin.router, prefix="/api/admin", tags=["admin"], dependencies=audited
    )
    app.include_router(
        settings_admin.router, prefix="/api/admin", tags=["admin"], dependencies=audited
    )
    app.include_router(reports.router, prefix="/api/admin", tags=["admin"])
    app.include_router(deposits.trader_router, prefix="/api/trader", tags=["trader"])
    app.include_router(deposits.merchant_router, prefix="/api/merchant", tags=["merchant"])
    app.include_router(deposits.admin_router, prefix="/api/admin", tags=["admin"])
    app.include_router(withdrawals.trader_router, prefix="/api/trader", tags=["trader"])
    app.include_router(withdrawals.merchant_router, prefix="/api/merchant", tags=["merchant"])
    app.include_router(withdrawals.gateway_router, prefix="/api/gateway", tags=["gateway"])
    app.include_router(withdrawals.admin_router, prefix="/api/admin", tags=["admin"])
    app.include_router(
        teams_admin.router, prefix="/api/admin", tags=["admin"], dependencies=audited
    )
    app.include_router(teamlead.router, prefix="/api/teamlead", tags=["teamlead"])
    app.include_router(reports.teamlead_router, prefix="/api/teamlead", tags=["teamlead"])
    return app


def create_default_app() -> FastAPI:
    """Entry point for uvicorn (`--factory api.main:create_default_app`)."""
    settings = get_settings()
    configure_logging(settings.log_level, service="api", style=settings.effective_log_format)
    return create_app(settings)
