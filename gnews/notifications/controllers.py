"""A device's notification inbox (``/api/v1/devices/{id}/notifications``, device secret), the
notifications staff and agencies send (``/api/v1/notifications``), and a breaking news item
turned into a notification in one call (``/api/v1/editorial/items/{id}/notify``).

The rules are in :mod:`gnews.notifications.service`; the sending in ``workers/``."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody
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
from redis.asyncio import Redis

from gnews.accounts.guards import BEARER, Principal, requires
from gnews.accounts.models import Role
from gnews.core.clock import UtcDateTime
from gnews.core.http_cache import encode, json_response
from gnews.core.localisation import Language, choose_language, pick
from gnews.core.pagination import Cursor, Limit, Page, check_limit
from gnews.core.rate_limit import READS, rate_limited
from gnews.core.schemas import NoNullsPatch
from gnews.devices.controllers import (
    DEVICE_SECRET,
    Agencies,
    Categories,
    Provinces,
    provide_device,
)
from gnews.devices.models import Device, Platform
from gnews.geo.provinces import RegionCode, all_regions
from gnews.notifications import service
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
    image_url: str | None
    sent_at: UtcDateTime
    opened: bool
    opened_at: UtcDateTime | None

    @classmethod
    def of(cls, entry: InboxEntry, notification: Notification, language: str) -> InboxItemOut:
        """An inbox entry with its notification."""
        return cls(
            id=entry.notification_id,
            title=pick(language, notification.title_th, notification.title_en),
            body=pick(language, notification.body_th, notification.body_en),
            data=notification.data,
            news_item_id=notification.news_item_id,
            deep_link=notification.deep_link,
            image_url=notification.image_url,
            sent_at=entry.created_at,
            opened=entry.opens > 0 or entry.opened_at is not None,
            opened_at=entry.opened_at,
        )


class InboxPage(Page[InboxItemOut]):
    """A page of the inbox."""

    lang: Language = Field(description="the language of the titles and bodies")


class InboxController(Controller):
    """The pushes a device was targeted by, newest first; opening one is recorded once."""

    path = "/api/v1/devices/{device_id:str}/notifications"
    tags = ["devices"]
    dependencies = {"device": Provide(provide_device)}
    guards = [rate_limited(READS)]
    security = DEVICE_SECRET

    @get(
        "/",
        summary="The device's notifications, newest first",
        responses={200: ResponseSpec(data_container=InboxPage, description="a page")},
    )
    async def inbox(
        self,
        request: Request,
        device: NamedDependency[Device],
        lang: FromQuery[Language | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Response[bytes]:
        """Texts in ``lang``, else ``Accept-Language``, else the device's language. ETag / 304;
        private, revalidated on every use. 401 without the device secret, 404 with a wrong
        one."""
        size = check_limit(limit)
        language = choose_language(lang, request.headers.get("accept-language"), device.language)
        entries, next_cursor = await service.inbox_page(str(device.id), size, cursor)
        page = InboxPage(
            items=[InboxItemOut.of(entry, note, language) for entry, note in entries],
            next_cursor=next_cursor,
            lang=language,
        )
        return json_response(request, encode(page), max_age=0, public=False)

    @post(
        "/{notification_id:str}/opened",
        summary="Record that the device opened a notification",
        status_code=204,
    )
    async def opened(self, device: NamedDependency[Device], notification_id: FromPath[str]) -> None:
        """204, also when repeated: an open is counted once in the notification's
        ``stats.opened``. 404 for a notification that is not in this device's inbox."""
        await service.record_open(str(device.id), notification_id)


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
    platforms: Annotated[list[Platform], Field(max_length=len(Platform))] = []
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


class NotificationOut(BaseModel):
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
    def of(cls, notification: Notification) -> NotificationOut:
        """Convert a stored notification."""
        values: dict[str, Any] = notification.model_dump(include=set(cls.model_fields) - {"id"})
        if notification.status is NotificationStatus.DRAFT:
            values["send_at"] = values["expires_at"] = None
        return cls(id=str(notification.id), **values)


class PreviewIn(BaseModel):
    """The audience to count, as a notification's."""

    model_config = ConfigDict(extra="forbid")

    audience: AudienceIn


class PreviewOut(BaseModel):
    """How many active devices an audience reaches now."""

    total: int
    by_platform: dict[str, int]


def _redis(request: Request) -> Redis:
    return request.app.state.redis


class NotificationController(Controller):
    """Send push notifications and follow them (admins, editors; agency users for their
    agency's news). API keys may not send pushes."""

    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [requires(Role.ADMIN, Role.EDITOR, Role.AGENCY, api_keys=False)]
    security = BEARER

    @post("/", summary="Create a notification (sent now or at send_at)", status_code=201)
    async def create(
        self,
        data: JSONBody[NotificationIn],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> NotificationOut:
        """Status ``scheduled`` until the worker starts it (at once, or at ``send_at``), or
        ``draft`` with ``"draft": true``. Agency users: only with a published ``news_item_id``
        of their agency (403 without one, 404 for another agency's)."""
        notification = await service.create_notification(data.values(), principal, _redis(request))
        return NotificationOut.of(notification)

    @post("/preview", summary="How many devices an audience reaches", status_code=200)
    async def preview(self, data: JSONBody[PreviewIn]) -> PreviewOut:
        """``{"audience": …}`` as in a notification: active devices it reaches now, by
        platform (the filter the fan-out streams)."""
        return PreviewOut(**await service.preview(data.audience.audience()))

    @get("/", summary="Notifications, newest first")
    async def list_notifications(
        self,
        principal: NamedDependency[Principal],
        status: FromQuery[NotificationStatus | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[NotificationOut]:
        """With live status and figures; agency users see their agency's only."""
        notifications, next_cursor = await service.list_notifications(
            principal, status, check_limit(limit), cursor
        )
        return Page(items=[NotificationOut.of(n) for n in notifications], next_cursor=next_cursor)

    @get("/{notification_id:str}", summary="One notification with its live figures")
    async def get_notification(
        self, notification_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> NotificationOut:
        """``stats``: targeted, sent, failed (and by reason), deactivated, skipped, opened."""
        return NotificationOut.of(await service.notification_for(notification_id, principal))

    @patch("/{notification_id:str}", summary="Change a draft")
    async def update_draft(
        self,
        notification_id: FromPath[str],
        data: JSONBody[DraftChangesIn],
        principal: NamedDependency[Principal],
    ) -> NotificationOut:
        """Texts, image, priority, data, audience of a draft; 409 once it is not a draft."""
        notification = await service.update_draft(notification_id, data.values(), principal)
        return NotificationOut.of(notification)

    @post("/{notification_id:str}/send", summary="Send a draft", status_code=200)
    async def send_draft(
        self,
        notification_id: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request,
        data: JSONBody[SendIn | None] = None,
    ) -> NotificationOut:
        """Now, or at ``send_at``, until ``expires_at`` / ``ttl_seconds`` as in a new
        notification: the draft becomes ``scheduled``. 409 unless it is a draft."""
        values = data.model_dump() if data is not None else {}
        notification = await service.send_draft(notification_id, values, principal, _redis(request))
        return NotificationOut.of(notification)

    @post("/{notification_id:str}/cancel", summary="Stop sending", status_code=200)
    async def cancel(
        self, notification_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> NotificationOut:
        """No batch not yet sent goes out (those in flight finish); a draft is discarded.
        Repeating it is harmless; 409 for a notification that is done, failed or expired."""
        return NotificationOut.of(await service.cancel(notification_id, principal))


class BreakingNewsController(Controller):
    """A breaking news item turned into a notification in one call."""

    path = "/api/v1/editorial/items"
    tags = ["notifications"]
    guards = [requires(Role.ADMIN, Role.EDITOR, Role.AGENCY, api_keys=False)]
    security = BEARER

    @post("/{item_id:str}/notify", summary="Notify a breaking news item", status_code=201)
    async def notify(
        self,
        item_id: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request,
        data: JSONBody[NotifyIn | None] = None,
    ) -> NotificationOut:
        """Title and summary of the item, linking to it, to the item's provinces (everyone for
        national news) unless the body says otherwise. 409 unless published and breaking;
        agency users: their agency's items only."""
        values = data.values() if data is not None else {}
        notification = await service.notify_news_item(item_id, values, principal, _redis(request))
        return NotificationOut.of(notification)
