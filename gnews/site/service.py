"""What the public pages look up beyond the domain services: which province, agency or category a
path names (404 otherwise, as an HTML page), the news selections of the pages (through
:mod:`gnews.news.feed`, the API's feed service), and app-link statements from settings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gnews.agencies.models import Agency
from gnews.agencies.service import active_agency
from gnews.config import Settings
from gnews.core.errors import NotFoundError
from gnews.geo.provinces import (
    Province,
    UnknownProvinceError,
    all_regions,
    check_province_code,
    get_province,
    provinces_in_region,
)
from gnews.media.service import CachedImage, local_html
from gnews.news import feed
from gnews.news.categories import Category, find_category
from gnews.news.models import NATIONAL

KIOSK_ITEMS = 12
FEED_ITEMS = 50
# The paths the apps open themselves when a link to them is followed on a phone.
APP_PATHS = ("/news/*", "/provinces/*", "/agencies/*", "/apps/*")


def province_or_404(code: str) -> Province:
    """The province an ISO 3166-2:TH code names (any case), or 404."""
    try:
        province = get_province(check_province_code(code))
    except UnknownProvinceError:
        province = None
    if province is None:
        raise NotFoundError(f"no province {code!r}")
    return province


async def agency_or_404(code: str) -> Agency:
    """An active agency, or 404 (an inactive one is not shown to the public)."""
    agency = await active_agency(code)
    if agency is None:
        raise NotFoundError(f"no agency {code!r}")
    return agency


def category_or_404(code: str) -> Category:
    """A news category by code or name, or 404."""
    category = find_category(code)
    if category is None:
        raise NotFoundError(f"no category {code!r}")
    return category


def national_criteria() -> dict[str, Any]:
    """Published national news (items naming no province): the feed's filter whose only
    province is :data:`~gnews.news.models.NATIONAL`, the ``reach`` of national items."""
    return feed.feed_criteria(provinces=[NATIONAL])


def province_criteria(province: Province) -> dict[str, Any]:
    """A province's published news: its own and national, as the API's ``?province=``."""
    return feed.feed_criteria(provinces=[province.code])


@dataclass(frozen=True, slots=True)
class RegionChoice:
    """A region and its provinces, for the province chooser."""

    code: str
    name_th: str
    name_en: str
    provinces: tuple[Province, ...]


def regions_with_provinces() -> list[RegionChoice]:
    """Every region with its provinces (Thai alphabetical order within a region)."""
    return [
        RegionChoice(
            region.code,
            region.name_th,
            region.name_en,
            tuple(sorted(provinces_in_region(region.code), key=lambda p: p.name_th)),
        )
        for region in all_regions()
    ]


def clean_html(html: str, cached: Iterable[CachedImage] = ()) -> str:
    """An item's body for a page. Feeds' HTML is sanitised when it is ingested; a page cleans it
    again (nh3's default allow-list) since it is the last place a script could get in, with its
    images pointing at our copies (those not cached are left out: :func:`local_html`)."""
    return local_html(html, cached)


def assetlinks(settings: Settings) -> list[dict[str, Any]]:
    """``/.well-known/assetlinks.json``: Android App Links for the configured app (empty
    without certificate fingerprints: nothing to verify against)."""
    if not settings.android_cert_fingerprints:
        return []
    return [
        {
            "relation": ["delegate_permission/common.handle_all_urls"],
            "target": {
                "namespace": "android_app",
                "package_name": settings.android_package,
                "sha256_cert_fingerprints": list(settings.android_cert_fingerprints),
            },
        }
    ]


def apple_app_site_association(settings: Settings) -> dict[str, Any]:
    """``/.well-known/apple-app-site-association``: iOS Universal Links for the configured
    app ids, in the current form (``components``) and the older one (``paths``)."""
    app_ids = list(settings.ios_app_ids)
    return {
        "applinks": {
            "apps": [],
            "details": [
                {
                    "appIDs": app_ids,
                    "components": [{"/": path} for path in APP_PATHS],
                    **({"appID": app_ids[0]} if len(app_ids) == 1 else {}),
                    "paths": list(APP_PATHS),
                }
            ],
        }
    }
