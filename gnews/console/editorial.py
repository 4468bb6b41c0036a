"""The editors' console: their home page (what needs them) and the editorial queue.

Every action goes through the functions the API's ``EditorialController`` calls
(:mod:`gnews.news.service`) with the signed-in editor, its input parsed by the API's own models
(``ReasonIn``, ``ItemPatch``, ``UntilIn``); only editors and admins get here (403 otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from appcenter import service as apps
from gnews.accounts.guards import Principal
from gnews.console.access import bangkok_input, provide_staff
from gnews.console.forms import FORM_FIELD, FormInvalid, errors_of, form_values, parse_form
from gnews.console.rendering import page
from gnews.core.dependencies import RedisClient
from gnews.core.errors import ConflictError, DomainError
from gnews.core.schemas import ReasonIn, UntilIn
from gnews.geo.provinces import all_provinces, get_province
from gnews.media.service import local_html
from gnews.news import service as editorial
from gnews.news.categories import CATEGORIES
from gnews.news.models import ItemStatus, NewsItem
from gnews.news.schemas import ItemPatch
from gnews.notifications import service as notifications
from gnews.notifications.models import ACTIVE_STATUSES, NotificationStatus
from gnews.sources import service as sources
from gnews.web import page_language

Staff = NamedDependency[Principal]
HOME_FEW = 5  # items shown in each home panel
QUEUE_PAGE = 20
EDITABLE: tuple[str, ...] = ("title", "summary", "categories", "provinces")  # ItemPatch's fields

PROVINCE_REASONS = {
    "source": ("ค่าเริ่มต้นของแหล่งข่าว", "the source's default province"),
    "text": ("พบชื่อจังหวัดในเนื้อข่าว", "named in the text"),
    "plugin": ("จากปลั๊กอิน", "from plugin"),
    "editor": ("บรรณาธิการกำหนด", "set by an editor"),
}
"""Why a province was tagged (``ProvinceTag.reason``), in words."""


DONE = {
    "approved": ("อนุมัติแล้ว: แสดงข่าวถัดไป", "Approved: here is the next item."),
    "rejected": ("ปฏิเสธแล้ว: แสดงข่าวถัดไป", "Rejected: here is the next item."),
    "saved": ("บันทึกแล้ว", "Saved."),
}
STALE = (
    "ข่าวนี้ถูกเปลี่ยนแปลงระหว่างที่คุณแก้ไข ไม่ได้บันทึกสิ่งใด โปรดดูข้อมูลล่าสุดแล้วลองอีกครั้ง",
    "This item changed meanwhile; nothing was saved. Here it is as it is now: try again.",
)


def _says(request: Request[Any, Any, Any], words: tuple[str, str] | None) -> str:
    """``words`` (Thai, English) in the page's language ("" for None)."""
    if words is None:
        return ""
    return words[0] if page_language(request) == "th" else words[1]


# -- home ---------------------------------------------------------------------------------------


async def editor_home(request: Request[Any, Any, Any], principal: Principal) -> Template:
    """The home page of editors and admins: counts and the newest few of what waits for them,
    each linking to its page. Every count is an index-served count."""
    pending, _ = await editorial.list_items(
        status=ItemStatus.PENDING, agency=None, cursor=None, limit=HOME_FEW
    )
    listings, _ = await apps.review_queue(agency=None, cursor=None, limit=HOME_FEW)
    drafts, _ = await notifications.list_notifications(
        principal, NotificationStatus.DRAFT, HOME_FEW, None
    )
    failing, more_failing = await sources.failing_sources(HOME_FEW)
    return page(
        request,
        "editorial/home.html",
        principal,
        pending_count=await editorial.count_pending(),
        pending=pending,
        in_review_count=await apps.count_in_review(),
        listings=listings,
        draft_count=await notifications.count_drafts(),
        new_app_draft_count=await notifications.count_drafts(origin=apps.NEW_APP_ORIGIN),
        new_app_origin=apps.NEW_APP_ORIGIN,
        drafts=drafts,
        failing=failing,
        more_failing=more_failing,
        in_flight=await notifications.count_by_status(ACTIVE_STATUSES),
    )


# -- the queue ----------------------------------------------------------------------------------


def _filters(agency: str | None, source_id: str | None) -> dict[str, str]:
    return {key: value for key, value in (("agency", agency), ("source_id", source_id)) if value}


def queue_url(filters: dict[str, str], **more: str) -> str:
    """``/console/queue`` with the filters (and ``more``) as its query."""
    query = urlencode({**filters, **more})
    return "/console/queue" + (f"?{query}" if query else "")


def province_tags(item: NewsItem) -> list[dict[str, Any]]:
    """Each province of ``item`` with its names and why it was tagged."""
    tags = []
    for tag in item.province_tags:
        province = get_province(tag.code)
        th, en = PROVINCE_REASONS.get(tag.reason, (tag.reason, tag.reason))
        tags.append(
            {
                "code": tag.code,
                "name_th": province.name_th if province else tag.code,
                "name_en": province.name_en if province else tag.code,
                "why_th": th,
                "why_en": en,
                "detail": tag.detail if tag.reason == "plugin" else None,
            }
        )
    return tags


async def render_queue(
    request: Request[Any, Any, Any],
    staff: Principal,
    *,
    filters: dict[str, str],
    cursor: str | None = None,
    item: NewsItem | None = None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    flash: str | None = None,
) -> Template:
    """The queue page: a page of pending items (oldest first) and one item's preview with its
    actions (``item``, else the page's first)."""
    items, next_cursor = await editorial.review_queue(
        agency=filters.get("agency"),
        source_id=filters.get("source_id"),
        cursor=cursor,
        limit=QUEUE_PAGE,
    )
    if item is None and items:
        item = items[0]
    known_sources: list[Any] = []
    if filters.get("agency"):  # an agency's sources to choose from (every source: too many)
        known_sources, _ = await sources.list_sources(
            staff, agency=filters["agency"], enabled=None, cursor=None, limit=100
        )
    return page(
        request,
        "editorial/queue.html",
        staff,
        status_code=status_code,
        items=items,
        next_cursor=next_cursor,
        cursor=cursor,
        item=item,
        content_html=local_html(item.content_html, item.cached_images) if item else "",
        tags=province_tags(item) if item else [],
        filters=filters,
        queue_url=queue_url,
        sources=known_sources,
        province_options=[(p.code, f"{p.name_th} ({p.name_en})") for p in all_provinces()],
        categories=CATEGORIES,
        pending_count=await editorial.count_pending(agency=filters.get("agency")),
        errors=errors or {},
        values=values or {},
        flash=flash,
        is_published=item is not None and item.status is ItemStatus.PUBLISHED,
        last=request.query_params.get("last") if request.query_params.get("done") else None,
    )


def _field_errors(error: FormInvalid | DomainError) -> dict[str, str]:
    """The errors by top-level field (``provinces.0`` → ``provinces``)."""
    errors: dict[str, str] = {}
    for key, message in errors_of(error).items():
        errors.setdefault(key.split(".")[0], message)
    return errors


class QueueController(Controller):
    """``/console/queue``: review pending news items one after another."""

    path = "/queue"
    include_in_schema = False
    dependencies = {"staff": Provide(provide_staff)}

    @get("/")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        agency: FromQuery[str | None] = None,
        source_id: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
    ) -> Template:
        """Pending items, oldest first (keyset-paged), with the chosen one's preview."""
        chosen = await editorial.item_or_404(item) if item else None
        return await render_queue(
            request,
            staff,
            filters=_filters(agency, source_id),
            cursor=cursor,
            item=chosen,
            flash=_says(request, DONE.get(request.query_params.get("done") or "")),
        )

    async def _act(
        self,
        request: Request[Any, Any, Any],
        staff: Principal,
        item_id: str,
        action: Any,
        *,
        next_item: bool,
        message: str,
    ) -> Any:
        """Run ``action(item, values)``; on success back to the queue (the next item, or this
        one), on a form or domain error the same page with the errors next to their fields."""
        item = await editorial.item_or_404(item_id)
        form = await request.form()
        values = form_values(form, lists=("categories", "provinces"))
        if "summary" in form:  # a summary emptied on purpose is a value
            values["summary"] = str(form.get("summary", "")).strip()
        filters = _filters(values.get("agency"), values.get("source_id"))
        try:
            await action(item, values)
        except (FormInvalid, DomainError) as error:
            status = error.status_code if isinstance(error, DomainError) else 422
            errors = _field_errors(error)
            if isinstance(error, ConflictError):  # say so, and show the item as it is now
                stale = error.message == editorial.STALE_ITEM
                errors[FORM_FIELD] = _says(request, STALE) if stale else error.message
                item = await editorial.item_or_404(item_id)
                values = {}  # the form shows the item as it is now, not the stale input
            return await render_queue(
                request,
                staff,
                filters=filters,
                item=item,
                status_code=status,
                errors=errors,
                values=values,
            )
        # Moving on, the page links back to the item just approved (to feature or pin it).
        more = (
            {"done": message, "last": item_id} if next_item else {"item": item_id, "done": message}
        )
        return Redirect(queue_url(filters, **more), status_code=303)

    @post("/{item_id:str}/approve")
    async def approve(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        item_id: FromPath[str],
    ) -> Any:
        """Publish the item (the API's approve), then the next one."""

        async def act(item: NewsItem, values: dict[str, Any]) -> None:
            await editorial.transition(item, "approve", staff, redis=redis)

        return await self._act(request, staff, item_id, act, next_item=True, message="approved")

    @post("/{item_id:str}/reject")
    async def reject(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        item_id: FromPath[str],
    ) -> Any:
        """Reject the item with a reason (required: shown to its agency), then the next one."""

        async def act(item: NewsItem, values: dict[str, Any]) -> None:
            data = parse_form(
                ReasonIn, {"reason": values.get("reason")} if "reason" in values else {}
            )
            await editorial.transition(item, "reject", staff, data.reason, redis=redis)

        return await self._act(request, staff, item_id, act, next_item=True, message="rejected")

    @post("/{item_id:str}/edit")
    async def edit(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        item_id: FromPath[str],
    ) -> Any:
        """Correct the title, summary, categories, provinces (the API's ``ItemPatch``); only
        the fields that differ from the item are sent, guarded by the version the form was
        read at (409, nothing written, when the item changed meanwhile)."""

        async def act(item: NewsItem, values: dict[str, Any]) -> None:
            read_at = _version(values.get("updated_at"))
            fields: dict[str, Any] = {k: v for k, v in values.items() if k in EDITABLE}
            patch = parse_form(ItemPatch, fields)
            changes = {
                key: value
                for key, value in patch.model_dump(exclude_unset=True).items()
                if value != getattr(item, key)
            }
            await editorial.edit_item(item, changes, staff, redis=redis, read_at=read_at)

        return await self._act(request, staff, item_id, act, next_item=False, message="saved")

    @post("/{item_id:str}/highlight")
    async def highlight(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        item_id: FromPath[str],
    ) -> Any:
        """Feature or pin the item until a Bangkok time (``action``: feature / pin), or stop
        (``stop``); published items only (409 otherwise)."""

        async def act(item: NewsItem, values: dict[str, Any]) -> None:
            action = values.get("action")
            if action not in editorial.HIGHLIGHTS:
                raise FormInvalid({"action": "feature or pin"})
            if values.get("stop"):
                await editorial.highlight(item, action, None, staff, redis=redis)
                return
            until = bangkok_input("until", values.get("until"))
            data = parse_form(UntilIn, {"until": until} if until else {})
            await editorial.highlight(item, action, data.until, staff, redis=redis)

        return await self._act(request, staff, item_id, act, next_item=False, message="saved")

    @post("/{item_id:str}/breaking")
    async def breaking(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        item_id: FromPath[str],
    ) -> Any:
        """Mark the item breaking (``on`` = 1) or stop; published items only."""

        async def act(item: NewsItem, values: dict[str, Any]) -> None:
            await editorial.set_breaking(item, values.get("on") == "1", staff, redis=redis)

        return await self._act(request, staff, item_id, act, next_item=False, message="saved")


def _version(value: Any) -> datetime | None:
    """The ``updated_at`` an edit form was read at (hidden field); None when absent."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise FormInvalid({FORM_FIELD: "this form is damaged: reload the page"}) from None
