"""The public site's routes: pages, feeds out and the ``/.well-known`` files (docs/site.md).

Every page and feed is built by the domain services the API uses (:mod:`gnews.news.feed`,
:mod:`gnews.news.service`, :mod:`appcenter.service`), cached in Redis in the API's namespaces
(``news``, ``apps``: the same invalidation) keyed by path, query and language, and answered with
ETag / Last-Modified / 304. A page's language is ``?lang=`` (remembered in the ``lang`` cookie),
else the cookie, else Thai; links keep ``?lang=en`` so an English page links to English pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.types import ControllerRouterHandler

from appcenter import service as catalogue
from gnews.config import Settings
from gnews.core.dependencies import RedisClient
from gnews.core.errors import NEEDS_DATABASE, FieldError, NotFoundError
from gnews.core.http_cache import CachedBody, cached_body
from gnews.core.pagination import DEFAULT_LIMIT
from gnews.core.rate_limit import READS, rate_limited
from gnews.geo.provinces import Province
from gnews.media.controllers import MediaController
from gnews.news import feed
from gnews.news import service as editorial
from gnews.news.categories import category_name
from gnews.site import service
from gnews.site.feeds import MEDIA_TYPES, FeedFormat, FeedInfo, last_modified, render_feed
from gnews.web.rendering import LANGUAGES, language_cookies, page_language

HTML = "text/html"  # Litestar adds "; charset=utf-8"
ContextBuilder = Callable[[str], Awaitable[dict[str, Any]]]


# -- rendering ------------------------------------------------------------------------------------


def _linker(lang: str) -> Callable[..., str]:
    def url(path: str, **params: Any) -> str:
        """A link on the site that keeps the page's language (``?lang=en``)."""
        query = {k: v for k, v in params.items() if v is not None}
        if lang != "th":
            query["lang"] = lang
        return f"{path}?{urlencode(query)}" if query else path

    return url


def _language_links(request: Request) -> dict[str, str]:
    """This page in each language."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return {lang: f"{request.url.path}?{urlencode([*kept, ('lang', lang)])}" for lang in LANGUAGES}


def render(request: Request, template: str, context: Mapping[str, Any]) -> bytes:
    """A site template rendered with what every site page uses (``lang``, ``url``, ``origin``,
    ``languages_links``, ``path``)."""
    settings: Settings = request.app.state.settings
    lang = context.get("lang") or page_language(request)
    values = {
        "lang": lang,
        "url": _linker(lang),
        "origin": settings.public_origin(str(request.base_url)),
        "path": request.url.path,
        "language_links": _language_links(request),
        **context,
    }
    engine = request.app.template_engine
    assert engine is not None
    return engine.get_template(template).render(**values).encode()


def remember_language(request: Request, response: Response[Any]) -> Response[Any]:
    """Keep a language chosen with ``?lang=`` in the ``lang`` cookie (gnews.web's rule)."""
    for cookie in language_cookies(request):
        response.set_cookie(cookie)
    return response


async def page(
    request: Request,
    redis: RedisClient,
    namespace: str,
    template: str,
    build_context: ContextBuilder,
    *,
    max_age: int = feed.LIST_MAX_AGE,
) -> Response[bytes]:
    """A cached HTML page: ``build_context(lang)`` and ``template`` make it on a cache miss."""
    lang = page_language(request)

    async def build() -> CachedBody:
        context = await build_context(lang)
        return CachedBody(render(request, template, {"lang": lang, **context}), HTML)

    response = await cached_body(
        request,
        redis,
        namespace,
        build,
        extra_key=("site", lang),
        ttl=feed.CACHE_TTL_SECONDS,
        max_age=max_age,
        vary="Cookie",
    )
    return remember_language(request, response)


def _error_page(request: Request, status: int, message_th: str, message_en: str) -> Response[Any]:
    body = render(
        request,
        "site/error.html",
        {"status": status, "message_th": message_th, "message_en": message_en},
    )
    return remember_language(request, Response(body, status_code=status, media_type=HTML))


def not_found_page(request: Request, _: NotFoundError) -> Response[Any]:
    """The 404 page: what the address names does not exist (or is not published)."""
    return _error_page(request, 404, "ไม่พบหน้าที่คุณต้องการ", "This page does not exist")


def bad_request_page(request: Request, error: FieldError) -> Response[Any]:
    """400 for a malformed address (a cursor from elsewhere…): a page, not a traceback."""
    return _error_page(request, 400, "ลิงก์นี้ไม่ถูกต้อง", "This link is not valid")


SITE_ERRORS = {NotFoundError: not_found_page, FieldError: bad_request_page}


# -- pages ----------------------------------------------------------------------------------------


async def _news_context(
    criteria: Mapping[str, Any], lang: str, cursor: str | None, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    # Images as paths on this host (the page's own), never the configured origin's.
    news = await feed.news_page(
        criteria, limit, cursor, "en" if lang == "en" else "th", media_origin=""
    )
    return {"news": news, "cursor": cursor}


class SitePages(Controller):
    """The citizens' pages: national news, provinces (and their kiosk), agencies, items,
    apps."""

    include_in_schema = False
    guards = [rate_limited(READS)]
    exception_handlers = SITE_ERRORS  # type: ignore[assignment]

    @get("/")
    async def home(
        self, request: Request, redis: RedisClient, cursor: FromQuery[str | None] = None
    ) -> Response[bytes]:
        """National news and the province chooser."""

        async def build(lang: str) -> dict[str, Any]:
            return {
                **await _news_context(service.national_criteria(), lang, cursor),
                "regions": service.regions_with_provinces(),
            }

        return await page(request, redis, feed.CACHE_NAMESPACE, "site/home.html", build)

    @get("/provinces/{code:str}")
    async def province(
        self,
        request: Request,
        redis: RedisClient,
        code: FromPath[str],
        cursor: FromQuery[str | None] = None,
        kiosk: FromQuery[bool] = False,
    ) -> Response[bytes]:
        """A province's news (its own and national), newest first; ``?kiosk=1`` for a hall's
        screen."""
        province = service.province_or_404(code)

        async def build(lang: str) -> dict[str, Any]:
            limit = service.KIOSK_ITEMS if kiosk else DEFAULT_LIMIT
            context = await _news_context(
                service.province_criteria(province), lang, None if kiosk else cursor, limit
            )
            return {**context, "province": province, "feeds": _feeds("provinces", province.code)}

        template = "site/kiosk.html" if kiosk else "site/province.html"
        return await page(request, redis, feed.CACHE_NAMESPACE, template, build)

    @get("/agencies/{code:str}")
    async def agency(
        self,
        request: Request,
        redis: RedisClient,
        code: FromPath[str],
        cursor: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """An agency's published news, newest first."""
        agency = await service.agency_or_404(code)

        async def build(lang: str) -> dict[str, Any]:
            context = await _news_context(feed.feed_criteria(agency=agency.code), lang, cursor)
            return {**context, "agency": agency, "feeds": _feeds("agencies", agency.code)}

        return await page(request, redis, feed.CACHE_NAMESPACE, "site/agency.html", build)

    @get("/news/{item_id:str}")
    async def item(self, request: Request, redis: RedisClient, item_id: FromPath[str]) -> Any:
        """One published item, with OpenGraph and Twitter card tags for shared links."""
        found = await editorial.published_item_or_404(item_id)

        async def build(lang: str) -> dict[str, Any]:
            names = await feed.names_of([found], "en" if lang == "en" else "th")
            return {
                "item": feed.NewsItemOut.from_document(found, media_origin=""),
                "names": names,
                "content": service.clean_html(found.content_html, found.cached_images),
                "category_names": [
                    name for c in found.categories if (name := category_name(c, lang))
                ],
            }

        return await page(
            request,
            redis,
            feed.CACHE_NAMESPACE,
            "site/item.html",
            build,
            max_age=feed.ITEM_MAX_AGE,
        )

    @get("/apps")
    async def apps(
        self,
        request: Request,
        redis: RedisClient,
        q: FromQuery[str | None] = None,
        agency: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """The GAC catalogue: published apps, newest first; Thai search with ``q``."""
        query = (q or "").strip() or None

        async def build(lang: str) -> dict[str, Any]:
            try:
                criteria = catalogue.catalogue_criteria(agency=agency, q=query)
            except FieldError as error:  # shown next to the search field
                return {"apps": [], "next_cursor": None, "q": q, "q_error": error.fields}
            apps, next_cursor = await catalogue.apps_page(criteria, DEFAULT_LIMIT, cursor)
            return {"apps": apps, "next_cursor": next_cursor, "q": query, "agency_code": agency}

        return await page(request, redis, catalogue.CACHE_NAMESPACE, "site/apps.html", build)

    @get("/apps/{slug:str}")
    async def app(self, request: Request, redis: RedisClient, slug: FromPath[str]) -> Any:
        """One published app: what it does, its platforms and store links, its agency."""
        listing, agency = await catalogue.published_app(slug)

        async def build(lang: str) -> dict[str, Any]:
            return {"app": listing, "agency": agency}

        return await page(request, redis, catalogue.CACHE_NAMESPACE, "site/app.html", build)


# -- feeds out ------------------------------------------------------------------------------------


def _feeds(kind: str, code: str) -> dict[str, str]:
    return {fmt: f"/{kind}/{code}/feed.{fmt}" for fmt in ("atom", "rss")}


def _format_of(request: Request) -> FeedFormat:
    return "atom" if request.url.path.endswith(".atom") else "rss"


async def _feed_response(
    request: Request,
    redis: RedisClient,
    criteria: Mapping[str, Any],
    title: str,
    page_path: str,
) -> Response[bytes]:
    settings: Settings = request.app.state.settings
    origin = settings.public_origin(str(request.base_url))
    fmt = _format_of(request)

    async def build() -> CachedBody:
        items, _ = await feed.news_items(criteria, service.FEED_ITEMS)
        info = FeedInfo(
            title=title,
            description=title,
            page_url=f"{origin}{page_path}",
            feed_url=f"{origin}{request.url.path}",
            language=page_language(request),
        )
        return CachedBody(
            render_feed(info, items, origin, fmt), MEDIA_TYPES[fmt], last_modified(items)
        )

    return await cached_body(
        request,
        redis,
        feed.CACHE_NAMESPACE,
        build,
        extra_key=("feed", page_language(request), origin),
        ttl=feed.CACHE_TTL_SECONDS,
        max_age=feed.LIST_MAX_AGE,
        vary="Cookie",
    )


def _name(request: Request, thai: str, english: str) -> str:
    return english if page_language(request) == "en" else thai


class SiteFeeds(Controller):
    """Atom and RSS of a province's, an agency's or a category's news (the newest 50)."""

    include_in_schema = False
    guards = [rate_limited(READS)]
    exception_handlers = SITE_ERRORS  # type: ignore[assignment]

    @get(["/provinces/{code:str}/feed.atom", "/provinces/{code:str}/feed.rss"])
    async def province_feed(
        self, request: Request, redis: RedisClient, code: FromPath[str]
    ) -> Response[bytes]:
        """A province's news and national news."""
        province: Province = service.province_or_404(code)
        title = _name(request, f"ข่าว{province.name_th} — G-News", f"{province.name_en} — G-News")
        return await _feed_response(
            request,
            redis,
            service.province_criteria(province),
            title,
            f"/provinces/{province.code}",
        )

    @get(["/agencies/{code:str}/feed.atom", "/agencies/{code:str}/feed.rss"])
    async def agency_feed(
        self, request: Request, redis: RedisClient, code: FromPath[str]
    ) -> Response[bytes]:
        """An agency's news."""
        agency = await service.agency_or_404(code)
        title = _name(request, f"{agency.name_th} — G-News", f"{agency.name_en} — G-News")
        return await _feed_response(
            request,
            redis,
            feed.feed_criteria(agency=agency.code),
            title,
            f"/agencies/{agency.code}",
        )

    @get(["/categories/{code:str}/feed.atom", "/categories/{code:str}/feed.rss"])
    async def category_feed(
        self, request: Request, redis: RedisClient, code: FromPath[str]
    ) -> Response[bytes]:
        """A news category's items (by code, or a name of it)."""
        category = service.category_or_404(code)
        title = _name(request, f"ข่าว{category.name_th} — G-News", f"{category.name_en} — G-News")
        return await _feed_response(
            request, redis, feed.feed_criteria(category=category.code), title, "/"
        )


# -- shared links ---------------------------------------------------------------------------------


class WellKnown(Controller):
    """What lets an https link to the site open the app where it is installed."""

    path = "/.well-known"
    include_in_schema = False

    @get("/assetlinks.json", media_type="application/json")
    async def assetlinks(self, settings: NamedDependency[Settings]) -> list[dict[str, Any]]:
        """Android App Links (Digital Asset Links)."""
        return service.assetlinks(settings)

    @get("/apple-app-site-association", media_type="application/json")
    async def apple_app_site_association(
        self, settings: NamedDependency[Settings]
    ) -> dict[str, Any]:
        """iOS Universal Links (served without an extension, as JSON)."""
        return service.apple_app_site_association(settings)


def site_routes() -> list[ControllerRouterHandler]:
    """The public site: pages, feeds and cached images (they need MongoDB), and the
    ``/.well-known`` files."""
    return [
        Router(
            "/", route_handlers=[SitePages, SiteFeeds, MediaController], opt={NEEDS_DATABASE: True}
        ),
        WellKnown,
    ]
