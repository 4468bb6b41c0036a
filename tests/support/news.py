"""Helpers of the tests that need news: sources and items written straight to the database."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from gnews.agencies.models import Agency
from gnews.news.models import ItemStatus, NewsItem
from gnews.sources.models import Source

NOW = datetime.now(UTC).replace(microsecond=0)


async def make_source(slug: str = "dopa-news", agency: str = "dopa") -> Source:
    """A source of ``agency`` (API origin, enabled)."""
    return await Source(
        slug=slug, agency=agency, name=slug, feed_url=f"https://{agency}.example/feed"
    ).insert()


async def publish(source: Source, title: str, minutes_ago: float = 60, **overrides) -> NewsItem:
    """A published item of ``source``, ``minutes_ago`` old."""
    values = {
        "source_id": str(source.id),
        "source_slug": source.slug,
        "agency": source.agency,
        "key": uuid.uuid4().hex,
        "title": title,
        "published_at": NOW - timedelta(minutes=minutes_ago),
        "content_hash": uuid.uuid4().hex,
        "status": ItemStatus.PUBLISHED,
        **overrides,
    }
    return await NewsItem(**values).insert()


async def news_item(agency: str = "ega", **changes) -> NewsItem:
    """A published news item (breaking unless told otherwise)."""
    if not await Agency.find_one({"code": agency}):
        await Agency(code=agency, name_th=agency, name_en=agency).insert()
    values = {
        "source_id": "0" * 24,
        "source_slug": "feed",
        "agency": agency,
        "key": f"k-{random.random()}",
        "title": "น้ำท่วมนครสวรรค์",
        "summary": "ระดับน้ำเจ้าพระยาสูงขึ้น  โปรดขนของขึ้นที่สูง",
        "published_at": datetime.now(UTC),
        "content_hash": "h",
        "status": ItemStatus.PUBLISHED,
        "breaking": True,
        "provinces": ["TH-60"],
        "image_url": "https://www.prd.go.th/flood.jpg",
        **changes,
    }
    return await NewsItem(**values).insert()
