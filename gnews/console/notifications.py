"""Sending a push and following it: ``/console/notifications`` (editors, admins, agency staff).

The pages are views over :mod:`gnews.notifications.service` with the signed-in ``Principal`` (the
API's rules: staff any notification, agency staff their agency's news only). The compose form is
validated by the API's own :class:`~gnews.notifications.schemas.NotificationIn`; the audience
size comes from :func:`gnews.notifications.service.preview` (what ``POST
/api/v1/notifications/preview`` answers); times are typed in Bangkok time and converted to UTC
here. The delivery page polls a fragment every 2 s while the notification is in flight, drawn
as server-rendered SVG from the notification's own counters (``stats``, including
``sent_by_province`` and ``sent_by_second`` which the send job ``$inc``s per batch).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from gnews.accounts.guards import Principal
from gnews.agencies.service import list_agencies
from gnews.console.access import bangkok_input
from gnews.console.forms import FormInvalid, errors_of, form_values, parse_form
from gnews.console.rendering import page
from gnews.core.dependencies import RedisClient
from gnews.core.errors import ConflictError, DomainError, FieldError
from gnews.devices.platforms import push_platforms
from gnews.geo.provinces import all_provinces, all_regions, get_province
from gnews.news.categories import CATEGORIES
from gnews.notifications import service
from gnews.notifications.models import (
    ACTIVE_STATUSES,
    Notification,
    NotificationStatus,
)
from gnews.notifications.schemas import Body, NotificationIn, PreviewIn, SendIn, Title

AUDIENCE_LISTS = ("provinces", "regions", "categories", "agencies", "platforms", "languages")
PAGE_SIZE = 30
TEXT_FIELDS = ("title_th", "title_en", "body_th", "body_en")


def platform_choices() -> list[str]:
    """The push platforms an audience may name: those the loaded plugins serve."""
    return push_platforms().names


def max_payload_bytes() -> int | None:
    """The smallest message size a served platform allows (None: no platform limits it)."""
    limits = [p.max_payload_bytes for p in push_platforms() if p.max_payload_bytes is not None]
    return min(limits) if limits else None


def text_limits() -> dict[str, int]:
    """The most characters of each text, read from the API's input model's types."""
    limits = {}
    for name, kind in (("title", Title), ("body", Body)):
        rules = getattr(kind, "__metadata__", ())  # Annotated[str, StringConstraints(...)]
        length = next(rule.max_length for rule in rules if getattr(rule, "max_length", None))
        limits[f"{name}_th"] = limits[f"{name}_en"] = int(length)
    return limits


@functools.cache
def province_map_svg() -> str:
    """The province map (``static/map/thailand.svg``), to inline in a page."""
    text = resources.files("gnews.web").joinpath("static/map/thailand.svg").read_text("utf-8")
    return text[text.index("<svg") :]


def _audience(values: dict[str, Any]) -> dict[str, Any]:
    audience: dict[str, Any] = {name: values.pop(name, []) for name in AUDIENCE_LISTS}
    audience["everyone"] = bool(values.pop("everyone", False))
    return audience


def _send_at(values: dict[str, Any], when: str) -> dict[str, Any]:
    """``send_at`` from the Bangkok time typed (only when sending later); FormInvalid names
    ``send_at`` when the time is missing or not a time."""
    local = values.pop("send_at", None)  # typed in Bangkok time
    if when != "later":
        return {}
    if not local:
        raise FormInvalid({"send_at": "required"})
    try:
        return {"send_at": bangkok_input("send_at", str(local))}
    except FieldError as error:
        raise FormInvalid(error.fields) from None


def _compose_form(form_data: Any) -> tuple[dict[str, Any], NotificationIn]:
    """(the values as typed, for re-rendering; the form as the API's NotificationIn).
    FormInvalid names every bad field at once, the Bangkok time included."""
    typed = form_values(form_data, lists=AUDIENCE_LISTS)
    values = dict(typed)
    when = str(values.pop("when", "now"))
    values["audience"] = _audience(values)
    errors: dict[str, str] = {}
    try:
        values.update(_send_at(values, when))
    except FormInvalid as error:
        errors.update(error.fields)
    if when == "draft":
        values["draft"] = True
    try:
        data = parse_form(NotificationIn, values)
    except FormInvalid as error:
        errors = {**error.fields, **errors}
    if errors:
        raise FormInvalid(errors)
    return typed, data


DRAFT_FIELDS = ("title_th", "title_en", "body_th", "body_en", "image_url", "audience")
"""What the compose form changes of a draft (its data, priority and news item stay)."""


def _draft_values(notification: Notification) -> dict[str, Any]:
    """A draft as the compose form's values."""
    values: dict[str, Any] = {
        name: getattr(notification, name)
        for name in ("title_th", "title_en", "body_th", "body_en", "image_url", "news_item_id")
        if getattr(notification, name)
    }
    audience = notification.audience
    values.update({name: list(getattr(audience, name)) for name in AUDIENCE_LISTS})
    if audience.everyone:
        values["everyone"] = "on"
    values["when"] = "draft"
    return values


def _field_errors(errors: dict[str, str]) -> dict[str, str]:
    """Errors keyed as the form shows them: every ``audience.…`` problem next to the audience."""
    shown: dict[str, str] = {}
    for name, message in errors.items():
        key = "audience" if name.startswith("audience") else name.split(".")[0]
        shown.setdefault(key, message)
    return shown


async def _choices() -> dict[str, Any]:
    agencies, _ = await list_agencies(include_inactive=False, cursor=None, limit=100)
    regions = all_regions()
    return {
        "regions": regions,
        "provinces_by_region": {
            region.code: [p for p in all_provinces() if p.region == region.code]
            for region in regions
        },
        "categories": CATEGORIES,
        "agencies": agencies,
        "platforms": platform_choices(),
        "limits": text_limits(),
        "max_payload_bytes": max_payload_bytes(),
        "map_svg": province_map_svg(),
    }


FINAL_STATUSES = frozenset(NotificationStatus) - {*ACTIVE_STATUSES, NotificationStatus.DRAFT}


def delivery_figures(notification: Notification) -> dict[str, Any]:
    """What the delivery charts draw: bars, reasons, the time series, provinces by count."""
    stats = notification.stats
    bars = [
        ("targeted", "เป้าหมาย", "Targeted", stats.targeted),
        ("sent", "ส่งแล้ว", "Sent", stats.sent),
        ("failed", "ไม่สำเร็จ", "Failed", stats.failed),
        ("skipped", "ข้าม", "Skipped", stats.skipped),
        ("opened", "เปิดอ่าน", "Opened", stats.opened),
    ]
    top = max([count for *_, count in bars] + [1])
    reasons = sorted(stats.failed_by_reason.items(), key=lambda item: -item[1])
    seconds = sorted((int(key), count) for key, count in stats.sent_by_second.items())
    series: list[tuple[datetime, int]] = []
    total = 0
    for second, count in seconds:
        total += count
        series.append((datetime.fromtimestamp(second, UTC), total))
    hours = sorted((int(key), count) for key, count in stats.opened_by_hour.items())
    provinces = sorted(stats.sent_by_province.items(), key=lambda item: (-item[1], item[0]))
    most = max([count for _, count in provinces] + [1])
    return {
        "bars": bars,
        "bar_top": top,
        "reasons": reasons,
        "reason_top": max([count for _, count in reasons] + [1]),
        "series": series,
        "series_top": max(total, 1),
        "opened_hours": [(datetime.fromtimestamp(h, UTC), c) for h, c in hours],
        "opened_top": max([c for _, c in hours] + [1]),
        "provinces": [(get_province(code), code, count) for code, count in provinces],
        "province_shades": {code: shade(count, most) for code, count in provinces},
        "final": notification.status in FINAL_STATUSES,
    }


def shade(count: int, most: int) -> int:
    """One of five colour steps (1..5) for a province's count, relative to the largest."""
    return max(1, min(5, 1 + (4 * count) // max(most, 1)))


class NotificationPagesController(Controller):
    """``/console/notifications``: the list, composing, one notification's delivery."""

    path = "/notifications"
    include_in_schema = False

    @get("/")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        status: FromQuery[NotificationStatus | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """Newest first, a page at a time (the service's keyset cursor)."""
        items, next_cursor = await service.list_notifications(principal, status, PAGE_SIZE, cursor)
        return page(
            request,
            "notifications/list.html",
            principal,
            items=items,
            next_cursor=next_cursor,
            status=status.value if status else "",
            statuses=[s.value for s in NotificationStatus],
        )

    @get("/new")
    async def compose(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Template:
        """The compose form."""
        return page(
            request,
            "notifications/new.html",
            principal,
            values={"when": "now", **{name: [] for name in AUDIENCE_LISTS}},
            **await _choices(),
        )

    @post("/new")
    async def create(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        redis: RedisClient,
    ) -> Any:
        """Send now, at a Bangkok time, or keep as a draft; errors next to their fields."""
        form_data = await request.form()
        typed = form_values(form_data, lists=AUDIENCE_LISTS)
        try:
            typed, data = _compose_form(form_data)
            notification = await service.create_notification(data.values(), principal, redis)
        except (FormInvalid, DomainError) as error:
            status_code = 409 if isinstance(error, ConflictError) else 422
            if isinstance(error, DomainError) and error.status_code in (403, 404):
                status_code = error.status_code
            return page(
                request,
                "notifications/new.html",
                principal,
                status_code=status_code,
                errors=_field_errors(errors_of(error)),
                values=typed,
                **await _choices(),
            )
        return Redirect(f"/console/notifications/{notification.id}", status_code=303)

    @post("/preview")
    async def preview(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Template:
        """htmx: the audience size of the form's audience (the preview API's service)."""
        values = form_values(await request.form(), lists=AUDIENCE_LISTS)
        try:
            audience = parse_form(PreviewIn, {"audience": _audience(values)}).audience
            counted = await service.preview(audience.audience())
        except (FormInvalid, DomainError) as error:
            return page(
                request,
                "notifications/_audience_count.html",
                principal,
                problem=_field_errors(errors_of(error)).get("audience", errors_of(error)),
            )
        return page(request, "notifications/_audience_count.html", principal, counted=counted)

    @get("/{notification_id:str}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        notification_id: FromPath[str],
    ) -> Template:
        """One notification: its texts, audience and delivery as it happens."""
        notification = await service.notification_for(notification_id, principal)
        return page(
            request,
            "notifications/show.html",
            principal,
            n=notification,
            map_svg=province_map_svg(),
            **delivery_figures(notification),
        )

    @get("/{notification_id:str}/delivery")
    async def delivery(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        notification_id: FromPath[str],
    ) -> Template:
        """htmx, every 2 s while in flight: the delivery figures and charts."""
        notification = await service.notification_for(notification_id, principal)
        return page(
            request,
            "notifications/_delivery.html",
            principal,
            n=notification,
            **delivery_figures(notification),
        )

    @get("/{notification_id:str}/edit")
    async def edit_draft_form(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        notification_id: FromPath[str],
    ) -> Template:
        """A draft (e.g. a "new official app" draft) in the compose form, to change and send."""
        notification = await service.notification_for(notification_id, principal)
        if notification.status != NotificationStatus.DRAFT:
            raise ConflictError("only a draft can be edited")
        return page(
            request,
            "notifications/new.html",
            principal,
            values=_draft_values(notification),
            editing=notification,
            **await _choices(),
        )

    @post("/{notification_id:str}/edit")
    async def edit_draft(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        notification_id: FromPath[str],
        redis: RedisClient,
    ) -> Any:
        """Save the draft's new texts and audience (the API's draft change), then send it now
        or at a Bangkok time unless it is kept as a draft."""
        notification = await service.notification_for(notification_id, principal)
        form_data = await request.form()
        typed = form_values(form_data, lists=AUDIENCE_LISTS)
        try:
            typed, data = _compose_form(form_data)
            values = data.values()
            changes = {key: values[key] for key in DRAFT_FIELDS}
            await service.update_draft(notification_id, changes, principal)
            if not data.draft:
                times = {"send_at": data.send_at} if data.send_at else {}
                await service.send_draft(notification_id, times, principal, redis)
        except (FormInvalid, DomainError) as error:
            status_code = 409 if isinstance(error, ConflictError) else 422
            return page(
                request,
                "notifications/new.html",
                principal,
                status_code=status_code,
                errors=_field_errors(errors_of(error)),
                values=typed,
                editing=notification,
                **await _choices(),
            )
        return Redirect(f"/console/notifications/{notification_id}", status_code=303)

    @post("/{notification_id:str}/cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        notification_id: FromPath[str],
    ) -> Redirect:
        """Stop sending (or discard a draft)."""
        await service.cancel(notification_id, principal)
        return Redirect(f"/console/notifications/{notification_id}", status_code=303)

    @post("/{notification_id:str}/send")
    async def send_draft(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        notification_id: FromPath[str],
        redis: RedisClient,
    ) -> Any:
        """Send a draft now or at a Bangkok time."""
        values = form_values(await request.form())
        when = str(values.pop("when", "now"))
        try:
            times = _send_at(dict(values), when)
            data = parse_form(SendIn, times)
            await service.send_draft(notification_id, data.model_dump(), principal, redis)
        except (FormInvalid, DomainError) as error:
            notification = await service.notification_for(notification_id, principal)
            return page(
                request,
                "notifications/show.html",
                principal,
                status_code=409 if isinstance(error, ConflictError) else 422,
                errors=_field_errors(errors_of(error)),
                values=values,
                n=notification,
                map_svg=province_map_svg(),
                **delivery_figures(notification),
            )
        return Redirect(f"/console/notifications/{notification_id}", status_code=303)


__all__ = ["NotificationPagesController", "platform_choices"]
