"""The Litestar application factory: the composition root of the API.

``create_app(settings)`` wires configuration, MongoDB, Redis, the plugin manager, the
controllers of G-News and GAC, error handling, logging and the OpenAPI docs (``/schema``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler
from redis.asyncio import Redis

from appcenter.controllers import (
    AgencyAppsController,
    CatalogueController,
    ListingController,
    ReviewQueueController,
)
from appcenter.sync import sync_plugin_listings
from gnews import __version__
from gnews.accounts.controllers import ApiKeyController, AuthController, UserController
from gnews.accounts.guards import provide_optional_principal, provide_principal
from gnews.agencies.controllers import AgencyController
from gnews.agencies.sync import sync_plugin_agencies
from gnews.audit.controllers import AuditController
from gnews.config import ConfigurationError, Settings, load_settings
from gnews.console import console_router, console_stores
from gnews.core.dependencies import provide_redis
from gnews.core.errors import (
    EXCEPTION_HANDLERS,
    MONGODB_DOWN,
    NEEDS_DATABASE,
    RETRY_AFTER,
    ServiceUnavailableError,
)
from gnews.core.health import HealthController
from gnews.core.logs import configure_logging, request_context_middleware
from gnews.core.metrics import http_metrics_middleware, metrics_endpoint
from gnews.core.openapi import ContractPlugin
from gnews.core.persistence import init_documents, mongo_client, redis_client
from gnews.core.request_rules import answer_head_as_get, refuse_non_json_body
from gnews.devices.controllers import DeviceController
from gnews.devices.platforms import install_platforms, load_platforms, platforms_middleware
from gnews.documents import document_models
from gnews.geo.controllers import ReferenceController
from gnews.jobs import QUEUES
from gnews.news.controllers import AgencyItemsController, EditorialController, NewsController
from gnews.news.tagging import warm_up
from gnews.notifications.controllers import (
    BreakingNewsController,
    InboxController,
    NotificationController,
)
from gnews.plugins import PluginManager, build_plugin_manager
from gnews.site.controllers import site_routes
from gnews.sources.controllers import SourceController
from gnews.sources.sync import sync_plugin_sources
from gnews.web import static_files, template_config
from gnews.web.push import web_push
from gnews.web.rendering import static


def route_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    """Every controller of the API and the web pages; those under the database router need
    MongoDB."""
    needs_database = Router(
        "/",
        route_handlers=[
            AuthController,
            UserController,
            AgencyController,
            ApiKeyController,
            AuditController,
            SourceController,
            EditorialController,
            AgencyItemsController,
            NewsController,
            DeviceController,
            InboxController,
            NotificationController,
            BreakingNewsController,
            ListingController,
            ReviewQueueController,
            CatalogueController,
            AgencyAppsController,
            console_router(settings),
        ],
        opt={NEEDS_DATABASE: True},
    )
    return [
        HealthController,
        ReferenceController,
        metrics_endpoint,
        static_files(),
        web_push,  # /sw.js and the VAPID public key: Web Push in browsers
        needs_database,
        *site_routes(),
    ]


async def refuse_until_database_ready(request: Request) -> None:
    """503 for routes that need MongoDB while this process has not initialised it yet."""
    if (
        request.route_handler.opt.get(NEEDS_DATABASE)
        and not request.app.state.documents_ready.is_set()
    ):
        raise ServiceUnavailableError(MONGODB_DOWN, headers=RETRY_AFTER)


async def before_request(request: Request) -> None:
    """Checks before a handler's parameters are parsed: the database is ready, a body is
    JSON."""
    await refuse_until_database_ready(request)
    refuse_non_json_body(request)


async def sync_plugin_data(plugins: PluginManager, *, redis: Redis | None = None) -> None:
    """Bring what plugins declare (agencies, news sources, app listings) into the database; run
    at start-up. ``redis``: the response cache to invalidate when listings changed."""
    await sync_plugin_agencies(plugins)
    await sync_plugin_sources(plugins)
    await sync_plugin_listings(plugins, redis=redis)


def _lifespan(
    settings: Settings, plugins: PluginManager
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        assert settings.mongodb_uri and settings.redis_url
        state = app.state
        state.mongo_client = mongo_client(settings.mongodb_uri, timeout_ms=settings.db_timeout_ms)
        state.redis = redis_client(
            settings.redis_url, timeout_seconds=settings.db_timeout_ms / 1000
        )
        state.documents_ready = asyncio.Event()

        async def on_database_ready() -> None:
            state.documents_ready.set()
            await sync_plugin_data(plugins, redis=state.redis)

        retry = await init_documents(
            state.mongo_client,
            settings.mongodb_db,
            document_models(),
            on_database_ready,
            build=settings.build_indexes,
        )
        for started in plugins.hook.gnews_startup(app=app):
            if inspect.isawaitable(started):  # an async implementation (guarded: never raises)
                await started
        # Thai dictionaries for search, built off the event loop rather than on the first query.
        warming = asyncio.create_task(asyncio.to_thread(warm_up))
        try:
            yield
        finally:
            warming.cancel()
            if retry is not None:
                retry.cancel()
            await state.redis.aclose()
            await state.mongo_client.close()

    return lifespan


def create_app(
    settings: Settings | None = None,
    *,
    plugins: PluginManager | None = None,
    setup_logging: bool = True,
) -> Litestar:
    """Build the API. ``settings`` must name MongoDB and Redis (``gnews serve`` resolves them)."""
    settings = settings or load_settings()
    if not settings.mongodb_uri or not settings.redis_url:
        raise ConfigurationError(
            "configuration error: GNEWS_MONGODB_URI and GNEWS_REDIS_URL are required to serve "
            "the API (or run `gnews dev`, which starts embedded servers)"
        )
    if setup_logging:
        configure_logging(json=settings.json_logs, level=settings.log_level)
    plugins = plugins or build_plugin_manager(
        settings.plugins, disabled=settings.disabled_plugins, trace=settings.trace_plugins
    )
    # Devices register for, and notifications target, the platforms these plugins declare.
    platforms = install_platforms(load_platforms(plugins))
    app = Litestar(
        route_handlers=route_handlers(settings),
        stores=console_stores(settings),
        lifespan=[_lifespan(settings, plugins)],
        dependencies={
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "plugins": Provide(lambda: plugins, use_cache=True, sync_to_thread=False),
            "principal": Provide(provide_principal),
            "maybe_principal": Provide(provide_optional_principal),
            "redis": Provide(provide_redis, sync_to_thread=False),
        },
        before_request=before_request,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[
            http_metrics_middleware,
            request_context_middleware,
            platforms_middleware(platforms),
        ],
        cors_config=CORSConfig(allow_origins=settings.cors_origins, allow_credentials=False)
        if settings.cors_origins
        else None,
        request_max_body_size=settings.max_request_body_bytes,
        openapi_config=OpenAPIConfig(
            title="G-News / GAC API",
            version=__version__,
            description=(
                "Government news with province-targeted push (G-News) and the Government "
                "Application Center (GAC). Errors share one shape: "
                '`{"error": {"status", "code", "message", "fields"?, "request_id"}}`.'
            ),
            path="/schema",
            # Swagger UI from this package's files (gnews/web/static/vendor): no CDN.
            render_plugins=[
                SwaggerRenderPlugin(
                    js_url=static("vendor/swagger-ui/swagger-ui-bundle.js"),
                    css_url=static("vendor/swagger-ui/swagger-ui.css"),
                    standalone_preset_js_url=static(
                        "vendor/swagger-ui/swagger-ui-standalone-preset.js"
                    ),
                    path=["/", "/swagger"],
                    favicon=f"<link rel='icon' href='{static('favicon.svg')}'>",
                )
            ],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", bearer_format="JWT"
                    ),
                    "ApiKey": SecurityScheme(
                        type="apiKey", name="X-API-Key", security_scheme_in="header"
                    ),
                    "DeviceSecret": SecurityScheme(
                        type="apiKey",
                        name="Authorization",
                        security_scheme_in="header",
                        description="`Device <secret>`, the secret registration returned",
                    ),
                }
            ),
        ),
        plugins=[ContractPlugin()],
        template_config=template_config(),
        state=State(
            {
                "settings": settings,
                "plugins": plugins,
                "push_platforms": platforms,
                "queues": tuple(QUEUES.values()),
            }
        ),
        logging_config=None,  # ours (gnews.core.logs) is configured above, not Litestar's
        debug=False,
    )
    app.asgi_handler = answer_head_as_get(app.asgi_handler)
    return app
