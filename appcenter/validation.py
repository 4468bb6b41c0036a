"""What a GAC listing must look like: field types for input models and the cross-field checks.

Every URL is https. Android package names and iOS bundle ids are checked against their real
formats. A Google Play link must be ``https://play.google.com/store/apps/details?id=<package>``
naming the listing's package (either one may be given: the other is derived from it). An App
Store link must be ``https://apps.apple.com/[<cc>/]app/[<name>/]id<digits>``; it carries
Apple's numeric id, not the bundle id, so the two cannot be matched without Apple's lookup API
(not reachable from here): the format is checked and a bundle id needs a link beside it.

Violations are 422s naming each offending field (:func:`invalid`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from appcenter.categories import CATEGORY_CODES
from gnews.core.errors import FieldError
from gnews.core.schemas import NoNullsPatch
from gnews.geo.provinces import ProvinceCode
from gnews.specs import AGENCY_CODE_PATTERN, SLUG_PATTERN

ANDROID_PACKAGE_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)+$")
IOS_BUNDLE_ID_RE = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
SLUG_RE = re.compile(SLUG_PATTERN)
GOOGLE_PLAY_HOST = "play.google.com"
GOOGLE_PLAY_PATH = "/store/apps/details"
APP_STORE_HOST = "apps.apple.com"
APP_STORE_PATH_RE = re.compile(r"^/(?:[a-z]{2}/)?app/(?:[^/]+/)?id(?P<id>\d{1,12})/?$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{2,19}$")

RESERVED_SLUGS = frozenset({"categories"})
"""Slugs that would be shadowed by a fixed path of the public catalogue."""

PLATFORM_FIELDS = {"android": "google_play_url", "ios": "app_store_url", "web": "web_url"}
"""Each platform and the link that makes a listing available on it."""

MAX_ANDROID_PACKAGE = 150
MAX_IOS_BUNDLE_ID = 155


def _https(url: AnyHttpUrl) -> AnyHttpUrl:
    if url.scheme != "https":
        raise ValueError("must be an https URL")
    return url


def _android_package(value: str) -> str:
    if len(value) > MAX_ANDROID_PACKAGE or not ANDROID_PACKAGE_RE.match(value):
        raise ValueError(
            "not an Android package name: dot-separated parts, each starting with a letter "
            "(e.g. th.or.dga.citizenportal)"
        )
    return value


def _ios_bundle_id(value: str) -> str:
    if len(value) > MAX_IOS_BUNDLE_ID or not IOS_BUNDLE_ID_RE.match(value):
        raise ValueError(
            "not an iOS bundle id: reverse-DNS parts of letters, digits and hyphens "
            "(e.g. th.go.example.app)"
        )
    return value


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(f"must match {SLUG_PATTERN} (lower-case letters, digits, hyphens)")
    if value in RESERVED_SLUGS:
        raise ValueError(f"{value!r} is reserved")
    return value


def _category(value: str) -> str:
    if value not in CATEGORY_CODES:
        raise ValueError(f"unknown category {value!r}; see GET /api/v1/apps/categories")
    return value


def _support_contact(value: str) -> str:
    if _EMAIL_RE.match(value) or _PHONE_RE.match(value):
        return value
    if value.startswith("https://") and urlsplit(value).hostname:
        return value
    raise ValueError("must be an e-mail address, a phone number or an https URL")


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


HttpsUrl = Annotated[AnyHttpUrl, AfterValidator(_https)]
AndroidPackage = Annotated[str, AfterValidator(_android_package)]
IosBundleId = Annotated[str, AfterValidator(_ios_bundle_id)]
Slug = Annotated[str, AfterValidator(_slug)]
AgencyCode = Annotated[str, StringConstraints(pattern=AGENCY_CODE_PATTERN)]
CategoryCode = Annotated[str, AfterValidator(_category)]
Categories = Annotated[list[CategoryCode], Field(max_length=10), AfterValidator(_unique)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=30), AfterValidator(_unique)]
Provinces = Annotated[list[ProvinceCode], AfterValidator(_unique)]
Screenshots = Annotated[list[HttpsUrl], Field(max_length=20)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Version = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
ReleaseNotes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
SupportContact = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_support_contact),
]

CONTENT_FIELDS: tuple[str, ...] = (
    "slug",
    "agency",
    "name_th",
    "name_en",
    "description_th",
    "description_en",
    "categories",
    "android_package",
    "google_play_url",
    "ios_bundle_id",
    "app_store_url",
    "web_url",
    "icon_url",
    "screenshot_urls",
    "version",
    "release_notes",
    "privacy_policy_url",
    "support_contact",
    "tags",
    "provinces",
)
"""What a listing says about its app (everything but status and bookkeeping)."""


class ListingIn(BaseModel):
    """A new listing (also what a plugin's ``AppListingSpec`` must satisfy)."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug = Field(examples=["tang-rat"])
    agency: AgencyCode = Field(examples=["ega"], description="the agency the app belongs to")
    name_th: Name = Field(examples=["ทางรัฐ"])
    name_en: Name | None = Field(None, examples=["Tang Rat"])
    description_th: Description = ""
    description_en: Description | None = None
    categories: Categories = Field(default_factory=list, description="codes from /apps/categories")
    android_package: AndroidPackage | None = Field(None, examples=["th.or.dga.citizenportal"])
    google_play_url: HttpsUrl | None = Field(
        None, description="https://play.google.com/store/apps/details?id=<android_package>"
    )
    ios_bundle_id: IosBundleId | None = None
    app_store_url: HttpsUrl | None = Field(
        None, description="https://apps.apple.com/<cc>/app/<name>/id<digits>"
    )
    web_url: HttpsUrl | None = Field(None, description="the web app or PWA")
    icon_url: HttpsUrl | None = None
    screenshot_urls: Screenshots = Field(default_factory=list)
    version: Version | None = Field(None, examples=["2.4.1"])
    release_notes: ReleaseNotes | None = None
    privacy_policy_url: HttpsUrl | None = None
    support_contact: SupportContact | None = Field(
        None, description="an e-mail address, a phone number or an https URL"
    )
    tags: Tags = Field(default_factory=list)
    provinces: Provinces = Field(
        default_factory=list, description="target provinces; empty means national"
    )


class ListingPatch(NoNullsPatch):
    """Changes to a listing: only the fields sent change. ``null`` clears an optional field
    (clearing either Android field clears both, likewise the App Store link and bundle id); it
    is refused for ``slug``, ``agency``, ``name_th``, ``description_th`` and the lists."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "name_en",
            "description_en",
            "android_package",
            "google_play_url",
            "ios_bundle_id",
            "app_store_url",
            "web_url",
            "icon_url",
            "version",
            "release_notes",
            "privacy_policy_url",
            "support_contact",
        }
    )

    slug: Slug | None = None
    agency: AgencyCode | None = None
    name_th: Name | None = None
    name_en: Name | None = None
    description_th: Description | None = None
    description_en: Description | None = None
    categories: Categories | None = None
    android_package: AndroidPackage | None = None
    google_play_url: HttpsUrl | None = None
    ios_bundle_id: IosBundleId | None = None
    app_store_url: HttpsUrl | None = None
    web_url: HttpsUrl | None = None
    icon_url: HttpsUrl | None = None
    screenshot_urls: Screenshots | None = None
    version: Version | None = None
    release_notes: ReleaseNotes | None = None
    privacy_policy_url: HttpsUrl | None = None
    support_contact: SupportContact | None = None
    tags: Tags | None = None
    provinces: Provinces | None = None


def google_play_url_of(package: str) -> str:
    """The canonical Google Play link of an Android package."""
    return f"https://{GOOGLE_PLAY_HOST}{GOOGLE_PLAY_PATH}?id={package}"


def package_in_google_play_url(url: str) -> str | None:
    """The package a Google Play link names, or None when it is not a Google Play app link."""
    parts = urlsplit(url)
    if parts.hostname != GOOGLE_PLAY_HOST or parts.path.rstrip("/") != GOOGLE_PLAY_PATH:
        return None
    ids = parse_qs(parts.query).get("id", [])
    return ids[0] if len(ids) == 1 else None


def app_store_id(url: str) -> str | None:
    """Apple's numeric app id in an App Store link, or None when it is not an App Store link."""
    parts = urlsplit(url)
    if parts.hostname != APP_STORE_HOST:
        return None
    match = APP_STORE_PATH_RE.match(parts.path)
    return match["id"] if match else None


def check_links(values: dict[str, Any]) -> dict[str, Any]:
    """Check the store links of a listing's (validated, JSON-compatible) ``values`` against each
    other, fill in what follows from them, and return them; 422 naming each bad field.

    Fills ``android_package`` from a Google Play link and the canonical Google Play link from a
    package, and ``platforms`` (android, ios, web) from the links present.
    """
    errors: dict[str, str] = {}
    package, play_url = values.get("android_package"), values.get("google_play_url")
    if play_url is not None:
        named = package_in_google_play_url(play_url)
        if named is None:
            errors["google_play_url"] = (
                f"must be a Google Play app link: https://{GOOGLE_PLAY_HOST}{GOOGLE_PLAY_PATH}"
                "?id=<package>"
            )
        elif not ANDROID_PACKAGE_RE.match(named):
            errors["google_play_url"] = f"names {named!r}, which is not an Android package name"
        elif package is not None and named != package:
            errors["google_play_url"] = (
                f"names package {named!r} but android_package is {package!r}"
            )
        else:
            values["android_package"] = named
    elif package is not None:
        values["google_play_url"] = google_play_url_of(package)
    store_url = values.get("app_store_url")
    if store_url is not None and app_store_id(store_url) is None:
        errors["app_store_url"] = (
            f"must be an App Store app link: https://{APP_STORE_HOST}/<cc>/app/<name>/id<digits>"
        )
    if values.get("ios_bundle_id") is not None and store_url is None:
        errors["app_store_url"] = "required with ios_bundle_id (the link citizens follow)"
    if errors:
        raise FieldError.many(errors)
    values["platforms"] = [
        platform for platform, field in PLATFORM_FIELDS.items() if values.get(field)
    ]
    return values


def check_complete(values: Mapping[str, Any]) -> None:
    """What a listing needs before review: a Thai description and at least one platform."""
    errors: dict[str, str] = {}
    if not (values.get("description_th") or "").strip():
        errors["description_th"] = "required before the listing is reviewed"
    if not any(values.get(field) for field in PLATFORM_FIELDS.values()):
        errors["platforms"] = (
            "at least one of google_play_url (or android_package), app_store_url or web_url "
            "is required before the listing is reviewed"
        )
    if errors:
        raise FieldError.many(errors)
