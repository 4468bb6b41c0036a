"""``/console/sources``: agencies' feeds with the health of their polling, for editors.

Listing, polling now, enabling, disabling, adding and editing go through
:mod:`gnews.sources.service` (the API's rules), forms parsed by the API's ``SourceIn`` and
``SourcePatch``.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from gnews.accounts.guards import Principal
from gnews.console.access import provide_staff
from gnews.console.forms import FormInvalid, errors_of, form_values, parse_form
from gnews.console.rendering import page
from gnews.core.dependencies import RedisClient
from gnews.core.errors import DomainError
from gnews.geo.provinces import all_provinces
from gnews.sources import service
from gnews.sources.models import API_ORIGIN, Source
from gnews.sources.schemas import SourceIn, SourcePatch
from gnews.web import page_language

Staff = NamedDependency[Principal]
PAGE = 50

ERROR_KINDS = {
    "invalid_url": ("ที่อยู่ฟีดไม่ถูกต้อง", "the feed address is not valid"),
    "blocked": ("ที่อยู่ฟีดถูกปิดกั้น (เครือข่ายภายใน)", "the feed address is blocked (private network)"),
    "dns": ("หาชื่อโดเมนไม่พบ", "the domain name was not found"),
    "connect": ("เชื่อมต่อเซิร์ฟเวอร์ไม่ได้", "the server could not be reached"),
    "timeout": ("เซิร์ฟเวอร์ตอบช้าเกินไป", "the server took too long to answer"),
    "http_status": ("เซิร์ฟเวอร์ตอบด้วยรหัสผิดพลาด", "the server answered with an error status"),
    "too_large": ("ฟีดมีขนาดใหญ่เกินไป", "the feed is too large"),
    "too_many_redirects": ("เปลี่ยนเส้นทางมากเกินไป", "too many redirects"),
    "tls": ("ใบรับรองความปลอดภัย (TLS) มีปัญหา", "a TLS (certificate) problem"),
    "protocol": ("เซิร์ฟเวอร์ตอบผิดรูปแบบ HTTP", "the server broke the HTTP protocol"),
    "parse": (
        "อ่านฟีดไม่ได้ (ไม่ใช่ RSS/Atom ที่ถูกต้อง)",
        "the feed could not be read (not valid RSS/Atom)",
    ),
    "internal": ("ข้อผิดพลาดภายในระหว่างดึงข่าว", "an internal error during the poll"),
}
"""A poll's error kind (``Source.last_error_kind``: the fetcher's kinds, ``parse``,
``internal``), in words."""

FIELDS = (
    "slug",
    "agency",
    "name",
    "feed_url",
    "language",
    "provinces",
    "categories",
    "poll_interval_minutes",
    "trusted",
    "enabled",
)


DONE = {
    "created": ("เพิ่มแหล่งข่าวแล้ว", "Source added."),
    "saved": ("บันทึกแล้ว", "Saved."),
    "poll-queued": ("สั่งดึงข่าวแล้ว", "Poll queued."),
    "poll-already-queued": ("มีการดึงข่าวรออยู่หรือกำลังดึงอยู่แล้ว", "A poll is already queued or running."),
    "enabled": ("เปิดใช้งานแล้ว", "Enabled."),
    "disabled": ("ปิดใช้งานแล้ว", "Disabled."),
}

FIXED = ("slug", "agency")  # not in SourcePatch: a source keeps its slug and agency


def _done(request: Request[Any, Any, Any], lang: str) -> str:
    words = DONE.get(request.query_params.get("done") or "")
    return "" if words is None else words[0] if lang == "th" else words[1]


def error_in_words(source: Source, lang: str) -> str | None:
    """The last error of ``source`` in words, with the fetcher's own message."""
    if not source.last_error:
        return None
    th, en = ERROR_KINDS.get(source.last_error_kind or "", ("ข้อผิดพลาด", "error"))
    return f"{th if lang == 'th' else en}: {source.last_error}"


def _form_page(
    request: Request[Any, Any, Any],
    staff: Principal,
    source: Source | None,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "sources/form.html",
        staff,
        status_code=status_code,
        source=source,
        values=values,
        errors=errors or {},
        plugin_owned=source is not None and source.origin != API_ORIGIN,
        province_options=[(p.code, f"{p.name_th} ({p.name_en})") for p in all_provinces()],
    )


def _values_of(form: Any) -> dict[str, Any]:
    values = form_values(form, lists=("provinces", "categories"))
    for flag in ("trusted", "enabled"):
        values[flag] = form.get(flag) == "on"
    return values


def _by_field(error: FormInvalid | DomainError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, message in errors_of(error).items():
        errors.setdefault(key.split(".")[0], message)
    return errors


class SourcesController(Controller):
    """Feeds and their health; poll now, enable, disable, add, edit."""

    path = "/sources"
    include_in_schema = False
    dependencies = {"staff": Provide(provide_staff)}

    @get("/")
    async def list_sources(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        agency: FromQuery[str | None] = None,
        failing: FromQuery[bool] = False,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """Every source in order of creation (keyset-paged), or the failing ones."""
        more = False
        if failing:
            found, more = await service.failing_sources(PAGE)
            next_cursor = None
        else:
            found, next_cursor = await service.list_sources(
                staff, agency=agency, enabled=None, cursor=cursor, limit=PAGE
            )
        lang = page_language(request)
        return page(
            request,
            "sources/list.html",
            staff,
            sources=[(source, error_in_words(source, lang)) for source in found],
            next_cursor=next_cursor,
            agency=agency or "",
            failing=failing,
            more=more,
            flash=_done(request, lang),
        )

    @get("/new")
    async def new_form(self, request: Request[Any, Any, Any], staff: Staff) -> Template:
        """The form of a new source."""
        return _form_page(request, staff, None, values={"enabled": True, "language": "th"})

    @post("/new")
    async def create(self, request: Request[Any, Any, Any], staff: Staff) -> Any:
        """Create it (the API's ``SourceIn`` and rules); errors next to their fields."""
        values = _values_of(await request.form())
        try:
            data = parse_form(SourceIn, {k: v for k, v in values.items() if k in FIELDS})
            source = await service.create_source(data.model_dump(mode="json"), staff)
        except (FormInvalid, DomainError) as error:
            status = error.status_code if isinstance(error, DomainError) else 422
            return _form_page(
                request, staff, None, values=values, errors=_by_field(error), status_code=status
            )
        return Redirect(f"/console/sources?done=created#source-{source.id}", status_code=303)

    @get("/{source_id:str}/edit")
    async def edit_form(
        self, request: Request[Any, Any, Any], staff: Staff, source_id: FromPath[str]
    ) -> Template:
        """The form of an existing source."""
        source = await service.source_for(source_id, staff)
        return _form_page(request, staff, source, values=source.model_dump(mode="json"))

    @post("/{source_id:str}/edit")
    async def edit(
        self, request: Request[Any, Any, Any], staff: Staff, source_id: FromPath[str]
    ) -> Any:
        """Change it (the API's ``SourcePatch``: only the fields that differ are sent)."""
        source = await service.source_for(source_id, staff)
        values = _values_of(await request.form())
        current = source.model_dump(mode="json")
        try:
            fields = {k: v for k, v in values.items() if k in FIELDS and k not in FIXED}
            patch = parse_form(SourcePatch, fields).model_dump(mode="json", exclude_unset=True)
            changes = {k: v for k, v in patch.items() if v != current.get(k)}
            await service.update_source(source, changes, staff)
        except (FormInvalid, DomainError) as error:
            status = error.status_code if isinstance(error, DomainError) else 422
            return _form_page(
                request,
                staff,
                source,
                values={**current, **values},
                errors=_by_field(error),
                status_code=status,
            )
        return Redirect(f"/console/sources?done=saved#source-{source.id}", status_code=303)

    @post("/{source_id:str}/poll")
    async def poll(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        source_id: FromPath[str],
    ) -> Redirect:
        """Queue a poll now (409 page for a disabled source)."""
        source = await service.source_for(source_id, staff)
        queued = await service.request_poll(source, redis)
        done = "poll-queued" if queued else "poll-already-queued"
        return Redirect(f"/console/sources?done={done}#source-{source.id}", status_code=303)

    @post("/{source_id:str}/enable")
    async def enable(
        self, request: Request[Any, Any, Any], staff: Staff, source_id: FromPath[str]
    ) -> Redirect:
        """Enable the source (its next poll comes forward)."""
        source = await service.source_for(source_id, staff)
        await service.update_source(source, {"enabled": True}, staff)
        return Redirect(f"/console/sources?done=enabled#source-{source.id}", status_code=303)

    @post("/{source_id:str}/disable")
    async def disable(
        self, request: Request[Any, Any, Any], staff: Staff, source_id: FromPath[str]
    ) -> Redirect:
        """Disable the source (no more polls)."""
        source = await service.source_for(source_id, staff)
        await service.update_source(source, {"enabled": False}, staff)
        return Redirect(f"/console/sources?done=disabled#source-{source.id}", status_code=303)
