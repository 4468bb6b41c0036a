"""The template engine and static files of the web pages (see ``gnews.web``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar import Request
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from gnews.core.clock import as_utc
from gnews.media.service import local_url
from gnews.thai.dates import BANGKOK

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_PATH = "/static"
LANGUAGES = ("th", "en")
LANGUAGE_COOKIE = "lang"

THAI_MONTHS = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip


def page_language(request: Request[Any, Any, Any]) -> str:
    """``th`` or ``en``: the ``lang`` query parameter, else the ``lang`` cookie, else Thai."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if value in LANGUAGES:
            return value
    return "th"


def language_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    """The ``lang`` cookie to set when the page was asked for with ``?lang=`` (the choice then
    holds on the next pages); none otherwise."""
    asked = request.query_params.get("lang")
    if asked not in LANGUAGES or request.cookies.get(LANGUAGE_COOKIE) == asked:
        return []
    return [Cookie(key=LANGUAGE_COOKIE, value=asked, path="/", max_age=365 * 86400, samesite="lax")]


@pass_context
def tr(context: Context, thai: str, english: str) -> str:
    """The text in the page's language (``lang`` in the template context; Thai by default)."""
    return english if context.get("lang") == "en" else thai


@pass_context
def bangkok(context: Context, moment: datetime | None, with_time: bool = True) -> str:
    """``moment`` in Bangkok time: ``25 พ.ย. 2569 14:05`` (Buddhist Era) in Thai, ``25 Nov 2026
    14:05`` in English; empty for None."""
    if moment is None:
        return ""
    local = as_utc(moment).astimezone(BANGKOK)
    clock = f" {local:%H:%M}" if with_time else ""
    if context.get("lang") == "en":
        return f"{local.day} {local:%b %Y}{clock}"
    return f"{local.day} {THAI_MONTHS[local.month - 1]} {local.year + 543}{clock}"


def static(path: str) -> str:
    """The URL of a file under ``static/``."""
    return f"{STATIC_PATH}/{path.lstrip('/')}"


def _configure(engine: JinjaTemplateEngine) -> None:
    engine.engine.globals.update(
        tr=tr, bangkok=bangkok, static=static, languages=LANGUAGES, local_image=local_url
    )
    # `value is datetime_value`: whether to write a value with bangkok()
    engine.engine.tests["datetime_value"] = lambda value: isinstance(value, datetime)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja templates from ``gnews/web/templates`` (autoescaped), with the shared globals."""
    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_configure
    )


def static_files() -> Router:
    """``/static``: htmx, Swagger UI, the province map, the pages' CSS and scripts."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC],
        name="static",
        include_in_schema=False,
        cache_control=None,
    )
