"""Helpers shared by the GAC tests (tests/test_gac_*.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from appcenter.models import AppListing, ListingStatus, OwnerKind
from appcenter.service import search_terms_of
from appcenter.validation import check_links
from gnews.agencies.models import Agency

NOW = datetime.now(UTC).replace(microsecond=0)
LISTINGS = "/api/v1/gac/listings"

BODY: dict[str, Any] = {
    "slug": "phuket-pass",
    "agency": "dopa",
    "name_th": "ภูเก็ตพาส",
    "name_en": "Phuket Pass",
    "description_th": "แอปพลิเคชันสำหรับลงทะเบียนเดินทางเข้าจังหวัดภูเก็ต",
    "description_en": "Register your trip to Phuket.",
    "categories": ["tourism", "government-services"],
    "android_package": "th.go.example.phuketpass",
    "app_store_url": "https://apps.apple.com/th/app/phuket-pass/id1234567890",
    "ios_bundle_id": "th.go.example.phuketpass",
    "web_url": "https://phuketpass.example.go.th/",
    "icon_url": "https://cdn.example.go.th/icon.png",
    "screenshot_urls": ["https://cdn.example.go.th/1.png"],
    "version": "1.2.0",
    "release_notes": "แก้ไขข้อผิดพลาด",
    "privacy_policy_url": "https://phuketpass.example.go.th/privacy",
    "support_contact": "support@example.go.th",
    "tags": ["ท่องเที่ยว", "covid"],
    "provinces": ["th-83"],
}


async def make_agency(code: str, *, trusted: bool = False) -> Agency:
    """The agency with this code, created (with ``trusted``) if missing."""
    agency = await Agency.find_one(Agency.code == code)
    if agency is None:
        agency = await Agency(
            code=code, name_th=f"หน่วยงาน {code}", name_en=code.upper(), trusted=trusted
        ).insert()
    return agency


async def create(client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """Create a listing through the API (201 expected) and return it."""
    response = await client.post(LISTINGS, headers=headers, json={**BODY, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


async def make_published(
    slug: str, *, minutes_ago: float = 60, agency: str = "dopa", **overrides: Any
) -> AppListing:
    """A listing stored directly, published ``minutes_ago`` unless ``status`` says otherwise."""
    values = {
        "slug": slug,
        "agency": agency,
        "name_th": slug,
        "description_th": "แอปของรัฐ",
        "categories": ["government-services"],
        "web_url": f"https://{slug}.example.go.th/",
        "screenshot_urls": [],
        "tags": [],
        "provinces": [],
        "status": ListingStatus.PUBLISHED,
        "published_at": NOW - timedelta(minutes=minutes_ago),
        **overrides,
    }
    values = check_links(values)
    await make_agency(agency)
    return await AppListing(
        **values, owner_kind=OwnerKind.AGENCY, owner_id=agency, search_terms=search_terms_of(values)
    ).insert()
