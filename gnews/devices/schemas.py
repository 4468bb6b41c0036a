"""What the device API takes and shows, and the subscription lists (provinces, categories,
agencies) that devices and notification audiences share."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from gnews.core.clock import UtcDateTime
from gnews.core.localisation import Language
from gnews.core.schemas import DocumentOut, NoNullsPatch
from gnews.devices import service
from gnews.devices.platforms import PLATFORM_EXAMPLES
from gnews.geo.provinces import all_provinces, check_province_code
from gnews.news.categories import check_category
from gnews.specs import AGENCY_CODE_PATTERN

MAX_CATEGORIES = 30
MAX_AGENCIES = 100


def _each(check: Callable[[str], str]) -> AfterValidator:
    """A list validator: ``check`` (raising ValueError) on every item, naming the list field
    and the item's index; duplicates dropped."""

    def validate(values: list[str]) -> list[str]:
        checked = []
        for index, value in enumerate(values):
            try:
                checked.append(check(value))
            except ValueError as error:
                raise ValueError(f"item {index}: {error}") from None
        return list(dict.fromkeys(checked))

    return AfterValidator(validate)


def _agency_code(value: str) -> str:
    if not re.fullmatch(AGENCY_CODE_PATTERN, value):
        raise ValueError(f"not an agency code: {value!r}")
    return value


Provinces = Annotated[
    list[str],
    Field(max_length=len(all_provinces()), description="ISO 3166-2:TH codes, e.g. TH-60"),
    _each(check_province_code),
]
Categories = Annotated[
    list[str],
    Field(max_length=MAX_CATEGORIES, description="category codes (GET /api/v1/news/categories)"),
    _each(check_category),
]
Agencies = Annotated[
    list[str],
    Field(max_length=MAX_AGENCIES, description="codes of active agencies"),
    _each(_agency_code),
]
PlatformName = Annotated[
    str,
    StringConstraints(max_length=32),
    Field(
        description="a push platform a loaded plugin serves (422 otherwise, listing them): "
        "android (FCM), ios (APNs), huawei (HMS Push Kit), and those of installed plugins; "
        "GET /api/v1/devices/platforms lists them",
        examples=PLATFORM_EXAMPLES,
    ),
    AfterValidator(service.check_platform),
]
PushToken = Annotated[
    str,
    StringConstraints(max_length=4096),
    Field(
        description="the platform's push token: an FCM registration token (android), an APNs "
        "device token in hex (ios), an HMS Push Kit token (huawei), or a plugin platform's own "
        "(GET /api/v1/devices/platforms)"
    ),
]
AppVersion = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class DeviceIn(BaseModel):
    """An install of the app registering (or re-registering) its push token."""

    model_config = ConfigDict(extra="forbid")

    platform: PlatformName
    push_token: PushToken
    provinces: Provinces = []
    categories: Categories = []
    agencies: Agencies = []
    language: Language = "th"
    app_version: AppVersion | None = None

    @field_validator("push_token")
    @classmethod
    def _check_token(cls, value: str, info: ValidationInfo) -> str:
        platform = info.data.get("platform")
        if platform is None:  # the platform is invalid; that error is reported
            return value
        return service.check_push_token(platform, value)


class DevicePatch(NoNullsPatch):
    """Changes to a device; omitted fields stay as they are, ``null`` is refused."""

    push_token: PushToken | None = None
    provinces: Provinces | None = None
    categories: Categories | None = None
    agencies: Agencies | None = None
    language: Language | None = None
    app_version: AppVersion | None = None


class DeviceOut(DocumentOut):
    """A device as its own app sees it (never its secret)."""

    id: str
    platform: str = Field(examples=PLATFORM_EXAMPLES)
    push_token: str
    provinces: list[str]
    categories: list[str]
    agencies: list[str]
    language: Language
    app_version: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    last_seen_at: UtcDateTime


class RegisteredDeviceOut(DeviceOut):
    """A registered device and its secret, which is shown only in this response."""

    secret: str = Field(description="send `Authorization: Device <secret>`; shown only once")


class PlatformOut(BaseModel):
    """A push platform devices may register for (declared by a loaded plugin), and the limits
    notifications to it are checked against."""

    name: str = Field(examples=["android"])
    label_th: str
    label_en: str
    max_title_chars: int
    max_body_chars: int
    max_payload_bytes: int | None = Field(description="null: no payload size check")
