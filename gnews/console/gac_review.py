"""``/console/gac/review``: GAC listings in review, shown as citizens will see them, for editors.

Approve, reject with a reason, feature until a Bangkok time and delist with a reason go through
:mod:`appcenter.service` (the API's rules: ``transition`` and ``feature``) with the signed-in
editor; inputs are parsed by the API's ``ReasonIn`` and ``UntilIn``. Each store link is checked
with :mod:`appcenter.validation`'s own rules.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from appcenter import service
from appcenter.categories import CATEGORIES
from appcenter.models import AppListing
from appcenter.validation import (
    ANDROID_PACKAGE_RE,
    APP_STORE_HOST,
    GOOGLE_PLAY_HOST,
    app_store_id,
    package_in_google_play_url,
)
from gnews.accounts.guards import Principal
from gnews.console.access import bangkok_input, provide_staff
from gnews.console.forms import FORM_FIELD, FormInvalid, errors_of, form_values, parse_form
from gnews.console.rendering import page
from gnews.core.dependencies import RedisClient
from gnews.core.errors import DomainError
from gnews.core.schemas import ReasonIn, UntilIn
from gnews.geo.provinces import get_province
from gnews.web import page_language

Staff = NamedDependency[Principal]
PAGE = 20

DONE = {
    "approved": ("เผยแพร่แล้ว", "Published."),
    "rejected": ("ปฏิเสธแล้ว: แสดงรายการถัดไป", "Rejected: here is the next listing."),
    "featured": ("บันทึกการแนะนำแล้ว", "Feature saved."),
    "delisted": ("ถอดออกจากแคตตาล็อกแล้ว", "Delisted."),
}


def store_links(listing: AppListing) -> list[dict[str, Any]]:
    """Each link of ``listing`` citizens follow, and whether it is a well-formed link of the
    right store (the rules of :mod:`appcenter.validation`), with the reason when it is not."""
    links = []
    if listing.google_play_url:
        package = package_in_google_play_url(listing.google_play_url)
        ok = package is not None and bool(ANDROID_PACKAGE_RE.match(package))
        links.append(
            {
                "store": "Google Play",
                "url": listing.google_play_url,
                "ok": ok and package == (listing.android_package or package),
                "why": f"package {package}" if ok else f"not a {GOOGLE_PLAY_HOST} app link",
            }
        )
    if listing.app_store_url:
        apple_id = app_store_id(listing.app_store_url)
        links.append(
            {
                "store": "App Store",
                "url": listing.app_store_url,
                "ok": apple_id is not None,
                "why": f"id{apple_id}" if apple_id else f"not an {APP_STORE_HOST} app link",
            }
        )
    for label, url in (("Web", listing.web_url), ("Privacy policy", listing.privacy_policy_url)):
        if url:
            https = urlsplit(url).scheme == "https"
            links.append(
                {"store": label, "url": url, "ok": https, "why": "https" if https else "not https"}
            )
    return links


def _filters(agency: str | None) -> dict[str, str]:
    return {"agency": agency} if agency else {}


def review_url(filters: dict[str, str], **more: str) -> str:
    """``/console/gac/review`` with the filters (and ``more``) as its query."""
    query = urlencode({**filters, **more})
    return "/console/gac/review" + (f"?{query}" if query else "")


async def render_review(
    request: Request[Any, Any, Any],
    staff: Principal,
    *,
    filters: dict[str, str],
    cursor: str | None = None,
    listing: AppListing | None = None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    flash: str = "",
) -> Template:
    """The review page: a page of listings in review (first submitted first) and one listing
    as citizens will see it, with the actions on it."""
    listings, next_cursor = await service.review_queue(
        agency=filters.get("agency"), cursor=cursor, limit=PAGE
    )
    if listing is None and listings:
        listing = listings[0]
    agencies = await service.agencies_by_code([listing.agency]) if listing else {}
    names = {c.code: (c.name_th, c.name_en) for c in CATEGORIES}
    provinces = [get_province(code) for code in listing.provinces] if listing else []
    return page(
        request,
        "gac/review.html",
        staff,
        status_code=status_code,
        listings=listings,
        next_cursor=next_cursor,
        listing=listing,
        agency=agencies.get(listing.agency) if listing else None,
        links=store_links(listing) if listing else [],
        category_names=names,
        provinces=[p for p in provinces if p is not None],
        in_review_count=await service.count_in_review(),
        filters=filters,
        review_url=review_url,
        errors=errors or {},
        values=values or {},
        flash=flash,
    )


class GacReviewController(Controller):
    """Review GAC listings: approve, reject with a reason, feature, delist."""

    path = "/gac/review"
    include_in_schema = False
    dependencies = {"staff": Provide(provide_staff)}

    @get("/")
    async def review(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        agency: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        listing: FromQuery[str | None] = None,
    ) -> Template:
        """Listings in review (keyset-paged) and the chosen one (any status)."""
        chosen = await service.listing_for(listing, staff) if listing else None
        words = DONE.get(request.query_params.get("done") or "")
        lang = page_language(request)
        return await render_review(
            request,
            staff,
            filters=_filters(agency),
            cursor=cursor,
            listing=chosen,
            flash="" if words is None else words[0] if lang == "th" else words[1],
        )

    async def _act(
        self,
        request: Request[Any, Any, Any],
        staff: Principal,
        listing_id: str,
        action: Any,
        *,
        done: str,
        stay: bool,
    ) -> Any:
        listing = await service.listing_for(listing_id, staff)
        values = form_values(await request.form())
        filters = _filters(values.get("agency"))
        try:
            await action(listing, values)
        except (FormInvalid, DomainError) as error:
            status = error.status_code if isinstance(error, DomainError) else 422
            errors = {k.split(".")[0]: v for k, v in errors_of(error).items()}
            if status == 409 and isinstance(error, DomainError):
                errors.setdefault(FORM_FIELD, error.message)
            return await render_review(
                request,
                staff,
                filters=filters,
                listing=await service.listing_for(listing_id, staff),
                status_code=status,
                errors=errors,
                values=values,
            )
        more = {"listing": listing_id, "done": done} if stay else {"done": done}
        return Redirect(review_url(filters, **more), status_code=303)

    @post("/{listing_id:str}/approve")
    async def approve(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        listing_id: FromPath[str],
    ) -> Any:
        """Publish the listing (409 when the catalogue already has the app)."""

        async def act(listing: AppListing, values: dict[str, Any]) -> None:
            await service.transition(listing, "approve", staff, redis)

        return await self._act(request, staff, listing_id, act, done="approved", stay=True)

    @post("/{listing_id:str}/reject")
    async def reject(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        listing_id: FromPath[str],
    ) -> Any:
        """Reject with a reason (required; shown to the developer or agency)."""

        async def act(listing: AppListing, values: dict[str, Any]) -> None:
            data = parse_form(ReasonIn, {k: v for k, v in values.items() if k == "reason"})
            await service.transition(listing, "reject", staff, redis, data.reason)

        return await self._act(request, staff, listing_id, act, done="rejected", stay=False)

    @post("/{listing_id:str}/delist")
    async def delist(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        listing_id: FromPath[str],
    ) -> Any:
        """Take a published listing down, with a reason."""

        async def act(listing: AppListing, values: dict[str, Any]) -> None:
            data = parse_form(ReasonIn, {k: v for k, v in values.items() if k == "reason"})
            await service.transition(listing, "delist", staff, redis, data.reason)

        return await self._act(request, staff, listing_id, act, done="delisted", stay=True)

    @post("/{listing_id:str}/feature")
    async def feature(
        self,
        request: Request[Any, Any, Any],
        staff: Staff,
        redis: RedisClient,
        listing_id: FromPath[str],
    ) -> Any:
        """Feature a published listing until a Bangkok time, or stop (``stop``)."""

        async def act(listing: AppListing, values: dict[str, Any]) -> None:
            if values.get("stop"):
                await service.feature(listing, None, staff, redis)
                return
            until = bangkok_input("until", values.get("until"))
            data = parse_form(UntilIn, {"until": until} if until else {})
            await service.feature(listing, data.until, staff, redis)

        return await self._act(request, staff, listing_id, act, done="featured", stay=True)
