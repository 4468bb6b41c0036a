"""Helpers of the console's editor tests: pending items and a developer's listing in review."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from appcenter import service as apps
from appcenter.models import AppListing
from appcenter.validation import ListingIn
from gnews.accounts.guards import principal_of
from gnews.accounts.models import User
from gnews.news.models import ItemStatus, NewsItem, ProvinceTag
from gnews.sources.models import Source
from tests.support.gac import BODY, make_agency


async def pending_item(source: Source, title: str, minutes_ago: float = 60, **changes: Any):
    """A pending item of ``source`` fetched ``minutes_ago``, tagged Nakhon Sawan (named in the
    text) and Bangkok (the source's default) unless told otherwise."""
    now = datetime.now(UTC).replace(microsecond=0)
    values: dict[str, Any] = {
        "source_id": str(source.id),
        "source_slug": source.slug,
        "agency": source.agency,
        "key": uuid.uuid4().hex,
        "title": title,
        "summary": f"สรุป {title}",
        "content_html": "<p>ระดับน้ำใน<b>นครสวรรค์</b>สูงขึ้น</p>",
        "image_url": "https://www.prd.go.th/flood.jpg",
        "published_at": now - timedelta(minutes=minutes_ago),
        "fetched_at": now - timedelta(minutes=minutes_ago),
        "content_hash": uuid.uuid4().hex,
        "status": ItemStatus.PENDING,
        "categories": ["disaster"],
        "provinces": ["TH-10", "TH-60"],
        "province_tags": [
            ProvinceTag(code="TH-10", reason="source"),
            ProvinceTag(code="TH-60", reason="text"),
        ],
        **changes,
    }
    return await NewsItem(**values).insert()


async def listing_in_review(developer: User, slug: str = "phuket-pass", **changes: Any):
    """A developer's listing created and submitted through the service, as the API does."""
    await make_agency("dopa")
    principal = principal_of(developer)
    values = ListingIn.model_validate({**BODY, "slug": slug, **changes}).model_dump(mode="json")
    listing = await apps.create_listing(values, principal, None)
    return await apps.transition(listing, "submit", principal, None)


async def reload_listing(listing: AppListing) -> AppListing:
    """The listing as stored now."""
    stored = await AppListing.get(listing.id)
    assert stored is not None
    return stored
