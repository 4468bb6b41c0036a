"""The Electronic Government Agency (EGA) plugin for G-News and GAC.

EGA (สำนักงานรัฐบาลอิเล็กทรอนิกส์, now the Digital Government Development Agency, DGA) runs
G-News and GAC. This plugin declares the agency and its press-release feed (trusted: EGA's own
news is published without review); its GAC app listings come with the GAC catalogue. See
docs/plugins.md for every hook.
"""

from __future__ import annotations

from gnews.hookspecs import AgencySpec, NewsSourceSpec, hookimpl

__version__ = "0.1.0"

AGENCY_CODE = "ega"


@hookimpl
def gnews_agencies() -> list[AgencySpec]:
    """EGA itself."""
    return [
        AgencySpec(
            code=AGENCY_CODE,
            name_th="สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
            name_en="Digital Government Development Agency (EGA)",
            website="https://www.dga.or.th",
        )
    ]


@hookimpl
def gnews_news_sources() -> list[NewsSourceSpec]:
    """EGA's press releases (national: no default province)."""
    return [
        NewsSourceSpec(
            slug="ega-press",
            agency=AGENCY_CODE,
            name="EGA press releases / ข่าวประชาสัมพันธ์ สพร.",
            feed_url="https://www.dga.or.th/feed/",
            language="th",
            categories=["digital-government"],
            poll_interval_minutes=30,
            trusted=True,
        )
    ]
