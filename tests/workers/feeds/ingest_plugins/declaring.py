"""Declares the EGA agency and one trusted loopback feed (URL from GNEWS_TEST_FEED_URL)."""

import os

from gnews.hookspecs import AgencySpec, NewsSourceSpec, hookimpl


@hookimpl
def gnews_agencies():
    """EGA."""
    return [AgencySpec(code="ega", name_th="สำนักงานรัฐบาลอิเล็กทรอนิกส์", name_en="EGA")]


@hookimpl
def gnews_news_sources():
    """One trusted feed of Thai press releases."""
    return [
        NewsSourceSpec(
            slug="loopback-press",
            agency="ega",
            name="EGA press releases (loopback)",
            feed_url=os.environ["GNEWS_TEST_FEED_URL"],
            trusted=True,
        )
    ]
