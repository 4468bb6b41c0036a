"""What the notification API takes and shows: inbox pages, notifications with their audience
and delivery times, previews."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AnyHttpUrl,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.functional_validators import AfterValidator

from gnews.core.clock import UtcDateTime
from gnews.core.localisation import Language, pick
from gnews.core.pagination import Page
from gnews.core.schemas import DocumentOut, NoNullsPatch
from gnews.devices.schemas import Agencies, Categories, PlatformName, Provinces
from gnews.geo.provinces import RegionCode, all_regions
from gnews.notifications.message import item_url
from gnews.notifications.models import (
    Audience,
    InboxEntry,
    Notification,
    NotificationStats,
    NotificationStatus,
)


class InboxItemOut(BaseModel):
    """A notification the device was sent, in the page's language (Thai when there is no
    English text)."""

    id: str = Field(description="the notification's id")
    title: str
    body: str
    data: dict[str, str]
    news_item_id: str | None
    deep_link: str | None
    url: str | None = Field(description="the news item's page on the public site (https)")
    image_url: str | None
    sent_at: UtcDateTime
    opened: bool
    opened_at: UtcDateTime | None

    @classmethod
    def of(
        cls,
        entry: InboxEntry,
        notification: Notification,
        language: str,
        public_base_url: str | None = None,
    ) -> InboxItemOut:
        """An inbox entry with its notification (``url`` made with ``public_base_url``)."""
        item_id = notification.news_item_id
        return cls(
            id=entry.notification_id,
            title=pick(language, notification.title_th, notification.title_en),
            body=pick(language, notification.body_th, notification.body_en),
            data=notification.data,
            news_item_id=notification.news_item_id,
            deep_link=notification.deep_link,
            url=item_url(item_id, public_base_url) if item_id and public_base_url else None,
            image_url=notification.image_url,
            sent_at=entry.created_at,
            opened=entry.opens > 0 or entry.opened_at is not None,
            opened_at=entry.opened_at,
        )


class InboxPage(Page[InboxItemOut]):
    """A page of the inbox."""

    lang: Language = Field(description="the language of the titles and bodies")


# -- notifications (staff, agencies) --------------------------------------------------------------

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
DATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
DataValue = Annotated[str, StringConstraints(max_length=1000)]
# Keys the push messages set themselves, or that FCM / APNs reserve.
RESERVED_DATA_KEYS = frozenset(
    {"notification_id", "news_item_id", "deep_link", "image_url", "aps", "from", "collapse_key",
     "message_type", "notification", "priority", "ttl"}
)  # fmt: skip
TARGETING = ("provinces", "regions", "categories", "agencies", "platforms", "languages")


class AudienceIn(BaseModel):
    """Who gets it: active devices matching every dimension given (any value of each). A
    region means all its provinces. ``everyone`` excludes provinces, regions, categories and
    agencies; platforms and languages still narrow it. At least one dimension, or everyone."""

    model_config = ConfigDict(extra="forbid")

    everyone: bool = False
    provinces: Provinces = []
    regions: Annotated[list[RegionCode], Field(max_length=len(all_regions()))] = []
    categories: Categories = []
    agencies: Agencies = []
    platforms: Annotated[list[PlatformName], Field(max_length=32)] = []
    languages: Annotated[list[Language], Field(max_length=2)] = []

    @model_validator(mode="after")
    def _targets_someone(self) -> AudienceIn:
        geographic = [n for n in TARGETING[:4] if getattr(self, n)]
        if self.everyone and geographic:
            raise ValueError(f"everyone cannot be combined with {', '.join(geographic)}")
        if not self.everyone and not any(getattr(self, name) for name in TARGETING):
            raise ValueError(f"name at least one of {', '.join(TARGETING)}, or everyone: true")
        return self

    def audience(self) -> Audience:
        """As stored (duplicates dropped)."""
        values = self.model_dump(mode="json")
        for name in TARGETING:
            values[name] = list(dict.fromkeys(values[name]))
        return Audience.model_validate(values)


def _check_data_keys(value: dict[str, str]) -> dict[str, str]:
    if bad := [key for key in value if not DATA_KEY.match(key)]:
        raise ValueError(f"keys are a letter then letters, digits, _ (64 at most): {bad[0]!r}")
    if reserved := sorted(set(value) & RESERVED_DATA_KEYS):
        raise ValueError(f"reserved keys: {', '.join(reserved)}")
    return value


Data = Annotated[
    dict[str, DataValue],
    Field(max_length=20, description="key/values for the app (strings)"),
    AfterValidator(_check_data_keys),
]
Priority = Literal["high", "normal"]


class SendIn(BaseModel):
    """When to send, and until when (all optional): now, for a day, unless told otherwise."""

    model_config = ConfigDict(extra="forbid")

    send_at: AwareDatetime | None = Field(
        None, description="when to send (at most 30 days ahead); omitted: now"
    )
    expires_at: AwareDatetime | None = Field(
        None, description="nothing is sent from then on (default: send_at + 1 day; ≤ 28 days)"
    )
    ttl_seconds: int | None = Field(
        None, ge=60, le=28 * 86_400, description="instead of expires_at: send_at + this"
    )


class _Delivery(SendIn):
    """When and how: shared by a new notification and a breaking-news one."""

    data: Data = Field(default_factory=dict)
    priority: Priority = "high"


class NotificationIn(_Delivery):
    """A push notification: Thai text (English optional: both title and body), an audience."""

    title_th: Title
    title_en: Title | None = None
    body_th: Body
    body_en: Body | None = None
    news_item_id: str | None = Field(
        None, description="a published news item: the app opens it (required for agency users)"
    )
    image_url: AnyHttpUrl | None = None
    audience: AudienceIn
    draft: bool = Field(
        False, description="store it as a draft, sent later with …/send (no times with a draft)"
    )

    def values(self) -> dict[str, Any]:
        """As the service takes them."""
        values = self.model_dump(exclude={"audience"})
        values["image_url"] = str(self.image_url) if self.image_url else None
        values["audience"] = self.audience.audience().model_dump()
        return values


class DraftChangesIn(NoNullsPatch):
    """Changes to a draft: the fields given replace the draft's (``null`` removes
    ``title_en``, ``body_en`` or ``image_url``; the audience is replaced whole)."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"title_en", "body_en", "image_url"})

    title_th: Title | None = None
    title_en: Title | None = None
    body_th: Body | None = None
    body_en: Body | None = None
    image_url: AnyHttpUrl | None = None
    data: Data | None = None
    priority: Priority | None = None
    audience: AudienceIn | None = None

    def values(self) -> dict[str, Any]:
        """The fields given, as the service takes them."""
        values = self.model_dump(exclude_unset=True, exclude={"audience"})
        if "image_url" in values:
            values["image_url"] = str(self.image_url) if self.image_url else None
        if self.audience is not None:
            values["audience"] = self.audience.audience().model_dump()
        return values


class NotifyIn(_Delivery):
    """Changes to the notification made from a breaking news item (all optional)."""

    title_en: Title | None = None
    body_en: Body | None = None
    audience: AudienceIn | None = Field(
        None, description="default: the item's provinces, or everyone for national news"
    )

    def values(self) -> dict[str, Any]:
        """As the service takes them."""
        values = self.model_dump(exclude={"audience"})
        if self.title_en and not self.body_en:
            values["body_en"] = self.title_en
        if self.audience is not None:
            values["audience"] = self.audience.audience().model_dump()
        return values


class NotificationOut(DocumentOut):
    """A notification with its live status and figures."""

    id: str
    title_th: str
    title_en: str | None
    body_th: str
    body_en: str | None
    data: dict[str, str]
    news_item_id: str | None
    deep_link: str | None
    image_url: str | None
    priority: str
    audience: Audience
    agency: str | None
    status: NotificationStatus
    send_at: UtcDateTime | None = Field(description="null while a draft")
    expires_at: UtcDateTime | None = Field(description="null while a draft")
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    batches_total: int
    batches_done: int
    stats: NotificationStats
    created_by: str | None
    origin: str | None = Field(description="what wrote it when not staff: gac.new_app")
    created_at: UtcDateTime

    @classmethod
    def from_document(cls, document: Any, **values: Any) -> Self:
        """Convert a stored notification (a draft has no send or expiry time yet)."""
        if document.status is NotificationStatus.DRAFT:
            values = {"send_at": None, "expires_at": None, **values}
        return super().from_document(document, **values)


class PreviewIn(BaseModel):
    """The audience to count, as a notification's."""

    model_config = ConfigDict(extra="forbid")

    audience: AudienceIn


class PreviewOut(BaseModel):
    """How many active devices an audience reaches now."""

    total: int
    by_platform: dict[str, int]
