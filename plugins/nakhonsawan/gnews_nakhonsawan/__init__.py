"""Nakhon Sawan Provincial Hall (ศาลากลางจังหวัดนครสวรรค์): a provincial office's G-News plugin.

Its feeds default to Nakhon Sawan (TH-60), so every item reaches phones following the province
even when the text names no province. Items wait for EGA editors' review (not trusted).
"""

from __future__ import annotations

from gnews.hookspecs import AgencySpec, NewsSourceSpec, hookimpl

__version__ = "0.1.0"

AGENCY_CODE = "nakhonsawan"
NAKHON_SAWAN = "TH-60"


@hookimpl
def gnews_agencies() -> list[AgencySpec]:
    """The provincial hall."""
    return [
        AgencySpec(
            code=AGENCY_CODE,
            name_th="ศาลากลางจังหวัดนครสวรรค์",
            name_en="Nakhon Sawan Provincial Hall",
            website="https://www.nakhonsawan.go.th",
        )
    ]


@hookimpl
def gnews_news_sources() -> list[NewsSourceSpec]:
    """Provincial news and public relations of Nakhon Sawan."""
    return [
        NewsSourceSpec(
            slug="nakhonsawan-news",
            agency=AGENCY_CODE,
            name="ข่าวจังหวัดนครสวรรค์ / Nakhon Sawan provincial news",
            feed_url="https://www.nakhonsawan.go.th/feed/",
            language="th",
            provinces=[NAKHON_SAWAN],
            categories=["provincial"],
            poll_interval_minutes=60,
        ),
        NewsSourceSpec(
            slug="nakhonsawan-prd",
            agency=AGENCY_CODE,
            name="สำนักงานประชาสัมพันธ์จังหวัดนครสวรรค์ / Nakhon Sawan PR office",
            feed_url="https://nakhonsawan.prd.go.th/th/rss/page/content/id/4/cid/11",
            language="th",
            provinces=[NAKHON_SAWAN],
            categories=["provincial", "public-relations"],
            poll_interval_minutes=60,
        ),
    ]
