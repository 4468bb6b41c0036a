"""Types that plugins hand to G-News through the hooks (see :mod:`gnews.hookspecs`).

They validate what a plugin declares, so a typo in a plugin is reported with the plugin's name
instead of corrupting stored data.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from gnews.geo.provinces import ProvinceCode

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
AGENCY_CODE_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"


class AgencySpec(BaseModel):
    """An agency a plugin speaks for. Created if missing; admins own it afterwards (names,
    trust), so a plugin never overrides what an admin decided."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=AGENCY_CODE_PATTERN)
    name_th: str = Field(min_length=1, max_length=300)
    name_en: str = Field(min_length=1, max_length=300)
    website: AnyHttpUrl | None = None
    trusted: bool = Field(
        False,
        description="publish its plugins' GAC listings without review; applied only when the "
        "agency is created (admins decide afterwards)",
    )


class NewsSourceSpec(BaseModel):
    """A news feed an agency publishes (RSS 2.0 or Atom)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=SLUG_PATTERN, description="unique within the plugin")
    agency: str = Field(pattern=AGENCY_CODE_PATTERN, description="agency code, e.g. 'ega'")
    name: str = Field(min_length=1, max_length=200)
    feed_url: AnyHttpUrl
    language: Literal["th", "en"] = "th"
    provinces: list[ProvinceCode] = Field(
        default_factory=list, description="default provinces; empty means national"
    )
    categories: list[str] = Field(default_factory=list, max_length=20)
    poll_interval_minutes: int = Field(30, ge=5, le=24 * 60)
    trusted: bool = Field(False, description="publish items at once instead of queueing them")
    enabled: bool = True


class AppListingSpec(BaseModel):
    """A government app for the GAC catalogue, owned by ``agency``.

    Checked further as the API checks listings (https links, real package-name and bundle-id
    formats, store links matching them, category codes); it needs a Thai description and at
    least one of ``google_play_url`` / ``android_package``, ``app_store_url`` or ``web_url``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=SLUG_PATTERN)
    agency: str = Field(pattern=AGENCY_CODE_PATTERN)
    name_th: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    description_th: str = Field("", max_length=10_000)
    description_en: str | None = Field(None, max_length=10_000)
    categories: list[str] = Field(default_factory=list, max_length=10)
    android_package: str | None = None
    google_play_url: AnyHttpUrl | None = None
    ios_bundle_id: str | None = None
    app_store_url: AnyHttpUrl | None = None
    web_url: AnyHttpUrl | None = None
    icon_url: AnyHttpUrl | None = None
    screenshot_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=20)
    privacy_policy_url: AnyHttpUrl | None = None
    support_contact: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=30)
    provinces: list[ProvinceCode] = Field(default_factory=list)
    version: str | None = Field(None, max_length=50)
    release_notes: str | None = Field(None, max_length=5000)


# --- Push notifications -------------------------------------------------------------------------

MAX_PUSH_BATCH = 500  # tokens in one PushTransport.send call (FCM's and our batches' limit)
NOTIFICATION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # fits apns-collapse-id (64 bytes)


class PushMessage(BaseModel):
    """What one notification says, the same for every device of a batch.

    ``notification_id`` is the FCM collapse key and the ``apns-collapse-id``: a message sent
    again (after a worker crash) replaces the first on the phone instead of showing twice.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    notification_id: str = Field(pattern=NOTIFICATION_ID_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=2000)
    data: dict[str, str] = Field(
        default_factory=dict, description="extra key/values for the app (strings only)"
    )
    image_url: AnyHttpUrl | None = None
    deep_link: str | None = Field(None, max_length=2000, description="where the app opens")
    ttl_seconds: int = Field(86_400, ge=0, le=28 * 86_400, description="0: now or never")
    priority: Literal["high", "normal"] = "high"
    language: Literal["th", "en"] = "th"


class PushOutcome(BaseModel):
    """What became of one token in a batch.

    ``sent``: the gateway accepted it. ``invalid_token``: the gateway says this token will never
    work again (FCM ``UNREGISTERED`` or an invalid registration token, APNs 410 ``Unregistered``
    or 400 ``BadDeviceToken``): deactivate the device. ``failed``: not delivered after the
    transport's retries (or a permanent error of the message itself); ``retry_after`` is the
    gateway's last Retry-After in seconds, when it sent one.
    """

    model_config = ConfigDict(frozen=True)

    token: str
    status: Literal["sent", "failed", "invalid_token"]
    reason: str | None = None
    retry_after: float | None = None
    attempts: int = Field(1, ge=0)


@runtime_checkable
class PushTransport(Protocol):
    """A push channel for one platform (``android``: FCM, ``ios``: APNs, or a plugin's own).

    ``send`` delivers ``message`` to up to :data:`MAX_PUSH_BATCH` tokens of its platform and
    returns exactly one :class:`PushOutcome` per token, in the order of ``tokens``. It retries
    transient failures itself (429, 5xx, connection errors, time-outs; back-off with jitter,
    honouring Retry-After, a capped number of attempts) and never raises for a token's failure.
    ``aclose`` releases connections; the worker calls it at shutdown.
    """

    platform: str

    async def send(self, message: PushMessage, tokens: list[str]) -> list[PushOutcome]:
        """Deliver ``message`` to each token; one outcome per token, in order."""
        ...

    async def aclose(self) -> None:
        """Close connections and sessions."""
        ...
