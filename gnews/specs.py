"""Types of the plugin contract (see :mod:`gnews.hookspecs`): what plugins hand to G-News,
what G-News hands to plugins, and :func:`plugin_config`, a plugin's own settings.

The declarations (``*Spec``) validate what a plugin returns, so a typo in a plugin is reported
with the plugin's name instead of corrupting stored data. The views (``NewsItemView``,
``NewsItemDraft``, ``NewsSourceView``, ``StartedApp``, ``PushSettings``) are Protocols: they say
which members of the objects G-News passes to a hook a plugin may rely on, and which it may
change. They cost nothing at run time (the real objects are passed, not copies); a type checker
holds a plugin to them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr

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
    or 400 ``BadDeviceToken``, HMS ``illegal_tokens``): deactivate the device. ``failed``: not
    delivered after the transport's retries (or a permanent error of the message itself);
    ``retry_after`` is the gateway's last Retry-After in seconds, when it sent one.
    """

    model_config = ConfigDict(frozen=True)

    token: str
    status: Literal["sent", "failed", "invalid_token"]
    reason: str | None = None
    retry_after: float | None = None
    attempts: int = Field(1, ge=0)


PLATFORM_NAME_PATTERN = r"^[a-z][a-z0-9_-]{1,31}$"


def _stripped(token: str) -> str:
    return token.strip()


@dataclass(frozen=True, kw_only=True)
class PushPlatform:
    """A push platform (where devices register, what a notification may target), declared by the
    plugin that serves it through ``gnews_push_platforms``.

    ``name`` is what devices register with (``android``, ``ios``, ``huawei``, ``web``, a plugin's
    own such as ``line``); ``label_th`` / ``label_en`` are shown to staff. ``validate_token``
    answers None for a push token of this platform, else an English sentence saying the rule
    (the API's 422 on ``push_token``); it gets the token as ``canonical_token`` made it
    (stripped by default; iOS also lower-cases its hex). The limits are what the API checks a
    notification against before accepting it for this platform: title and body lengths in
    characters, and ``max_payload_bytes`` of the platform's own payload as ``payload_bytes``
    measures it (both None: no size check). A declaration is data and plain functions: cheap to
    import, as the API process loads it (the transport, with its clients, is the worker's).
    """

    name: str
    label_th: str
    label_en: str
    validate_token: Callable[[str], str | None]
    canonical_token: Callable[[str], str] = _stripped
    max_title_chars: int = 200
    max_body_chars: int = 2000
    max_payload_bytes: int | None = None
    payload_bytes: Callable[[PushMessage], int] | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(PLATFORM_NAME_PATTERN, self.name):
            raise ValueError(f"platform name {self.name!r} does not match {PLATFORM_NAME_PATTERN}")
        if not self.label_th or not self.label_en:
            raise ValueError(f"platform {self.name!r}: label_th and label_en are required")
        if not callable(self.validate_token) or not callable(self.canonical_token):
            raise TypeError(f"platform {self.name!r}: validate_token must be a function")
        if self.max_title_chars < 1 or self.max_body_chars < 1:
            raise ValueError(f"platform {self.name!r}: the text limits must be positive")
        if (self.max_payload_bytes is None) != (self.payload_bytes is None):
            raise ValueError(
                f"platform {self.name!r}: give max_payload_bytes and payload_bytes together"
            )

    def check_token(self, token: str) -> str:
        """``token`` canonical for this platform; ValueError with ``validate_token``'s rule."""
        canonical = self.canonical_token(token)
        problem = self.validate_token(canonical)
        if problem is not None:
            raise ValueError(problem)
        return canonical


@runtime_checkable
class PushTransport(Protocol):
    """A push channel for one platform (``android``: FCM, ``ios``: APNs, ``huawei``: HMS Push
    Kit, or a plugin's own, declared with a :class:`PushPlatform`).

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


# --- What plugins are given ---------------------------------------------------------------------


class NewsItemView(Protocol):
    """A news item as ``gnews_item_provinces`` sees it: read only."""

    @property
    def key(self) -> str:
        """Stable id of the entry within its source (guid, else link, else a content hash)."""
        ...

    @property
    def source_slug(self) -> str:
        """The slug of the source it came from."""
        ...

    @property
    def agency(self) -> str:
        """The code of the source's agency."""
        ...

    @property
    def title(self) -> str:
        """Plain text."""
        ...

    @property
    def summary(self) -> str:
        """Plain text."""
        ...

    @property
    def content_html(self) -> str:
        """Sanitised HTML."""
        ...

    @property
    def link(self) -> str | None:
        """Absolute http(s) URL of the article."""
        ...

    @property
    def language(self) -> str:
        """``th`` or ``en``: the source's language."""
        ...

    @property
    def categories(self) -> Sequence[str]:
        """The source's categories, then the entry's."""
        ...

    @property
    def published_at(self) -> datetime:
        """UTC; Thai (Buddhist Era) dates already converted."""
        ...


class NewsItemDraft(Protocol):
    """A news item as ``gnews_process_item`` sees it, before it is stored.

    The attributes are the ones a plugin may change in place; the properties are read only.
    """

    title: str
    summary: str
    content_html: str
    link: str | None
    image_url: str | None
    author: str | None
    categories: list[str]
    published_at: datetime
    date_missing: bool

    @property
    def key(self) -> str:
        """Stable id of the entry within its source."""
        ...

    @property
    def source_slug(self) -> str:
        """The slug of the source it came from."""
        ...

    @property
    def agency(self) -> str:
        """The code of the source's agency."""
        ...

    @property
    def language(self) -> str:
        """``th`` or ``en``: the source's language."""
        ...


class NewsSourceView(Protocol):
    """A news source (an agency's feed) as the hooks see it: read only."""

    @property
    def origin(self) -> str:
        """The name of the plugin that declared it, or ``api`` when staff created it."""
        ...

    @property
    def slug(self) -> str:
        """Unique within its plugin."""
        ...

    @property
    def agency(self) -> str:
        """Agency code."""
        ...

    @property
    def name(self) -> str:
        """Display name."""
        ...

    @property
    def feed_url(self) -> str:
        """The RSS/Atom URL."""
        ...

    @property
    def language(self) -> str:
        """``th`` or ``en``."""
        ...

    @property
    def provinces(self) -> Sequence[str]:
        """Default provinces (ISO 3166-2:TH codes); empty means national."""
        ...

    @property
    def categories(self) -> Sequence[str]:
        """Categories every item of the source gets."""
        ...

    @property
    def trusted(self) -> bool:
        """Whether its items are published without review."""
        ...


class StartedApp(Protocol):
    """The API application as ``gnews_startup`` sees it (a Litestar app)."""

    @property
    def state(self) -> Any:
        """Litestar's application state (attribute access), shared by the process's requests."""
        ...


class PushSettings(Protocol):
    """The settings ``gnews_push_transports`` gets: the built-in gateways' configuration.

    A plugin's own channel reads its own configuration with :func:`plugin_config`.
    """

    @property
    def fcm_endpoint(self) -> str:
        """``GNEWS_FCM_ENDPOINT``."""
        ...

    @property
    def fcm_credentials(self) -> Path | None:
        """``GNEWS_FCM_CREDENTIALS``: a service-account JSON file."""
        ...

    @property
    def apns_endpoint(self) -> str:
        """``GNEWS_APNS_ENDPOINT``."""
        ...

    @property
    def apns_key_file(self) -> Path | None:
        """``GNEWS_APNS_KEY_FILE``: the .p8 token-signing key."""
        ...

    @property
    def apns_key_id(self) -> str | None:
        """``GNEWS_APNS_KEY_ID``."""
        ...

    @property
    def apns_team_id(self) -> str | None:
        """``GNEWS_APNS_TEAM_ID``."""
        ...

    @property
    def apns_topic(self) -> str | None:
        """``GNEWS_APNS_TOPIC``: the app's bundle id."""
        ...

    @property
    def hms_app_id(self) -> str | None:
        """``GNEWS_HMS_APP_ID``: the Huawei app's id (AppGallery Connect)."""
        ...

    @property
    def hms_client_id(self) -> str | None:
        """``GNEWS_HMS_CLIENT_ID``: its OAuth 2.0 client id (None: the app id)."""
        ...

    @property
    def hms_client_secret(self) -> SecretStr | None:
        """``GNEWS_HMS_CLIENT_SECRET``: its OAuth 2.0 client secret."""
        ...

    @property
    def hms_token_endpoint(self) -> str:
        """``GNEWS_HMS_TOKEN_ENDPOINT``: Huawei's OAuth 2.0 token URL."""
        ...

    @property
    def hms_push_endpoint(self) -> str:
        """``GNEWS_HMS_PUSH_ENDPOINT``: Push Kit's base URL (``/v1/{appId}/messages:send``)."""
        ...

    @property
    def webpush_vapid_key_file(self) -> Path | None:
        """``GNEWS_WEBPUSH_VAPID_KEY_FILE``: the VAPID signing key of Web Push (PEM, P-256)."""
        ...

    @property
    def webpush_vapid_subject(self) -> str | None:
        """``GNEWS_WEBPUSH_VAPID_SUBJECT``: the contact push services see (mailto: or https:)."""
        ...


# --- A plugin's own configuration ---------------------------------------------------------------

PLUGIN_CONFIG_PREFIX = "GNEWS_PLUGIN_"


class PluginConfigError(ValueError):
    """A setting a plugin needs is missing; the message names the environment variable."""


def plugin_config_variable(plugin: str, key: str) -> str:
    """The environment variable of ``key`` for ``plugin``: ``GNEWS_PLUGIN_<PLUGIN>_<KEY>``,
    upper case, every character other than a letter or digit written ``_``."""
    return f"{PLUGIN_CONFIG_PREFIX}{_variable_part(plugin)}_{_variable_part(key)}"


def _variable_part(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


class PluginConfig(Mapping[str, str]):
    """One plugin's settings (see :func:`plugin_config`): a read-only mapping of lower-case
    keys to string values, read from the environment when it was made."""

    def __init__(self, plugin: str, values: Mapping[str, str]) -> None:
        self.plugin = plugin
        self._values = dict(values)

    def __getitem__(self, key: str) -> str:
        return self._values[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:  # values may be secrets: show only the keys
        return f"PluginConfig({self.plugin!r}, keys={sorted(self._values)!r})"

    def require(self, key: str) -> str:
        """The value of ``key``; :class:`PluginConfigError` naming the variable when it is
        missing or empty."""
        value = self._values.get(key.lower(), "")
        if not value:
            variable = plugin_config_variable(self.plugin, key)
            raise PluginConfigError(f"{variable} is not set (plugin {self.plugin})")
        return value


def plugin_config(plugin: str) -> PluginConfig:
    """The configuration of ``plugin`` (its entry-point name, e.g. ``"ega"``): every
    environment variable ``GNEWS_PLUGIN_<PLUGIN>_<KEY>``, keyed by ``<key>`` in lower case.

    ``plugin_config("line").get("channel_token")`` reads ``GNEWS_PLUGIN_LINE_CHANNEL_TOKEN``;
    ``.require(key)`` raises :class:`PluginConfigError` naming the variable when it is not set.
    Read it in your hook, not at import time, so a changed environment is seen by the next call.
    """
    prefix = f"{PLUGIN_CONFIG_PREFIX}{_variable_part(plugin)}_"
    values = {
        name[len(prefix) :].lower(): value
        for name, value in os.environ.items()
        if name.startswith(prefix) and len(name) > len(prefix)
    }
    return PluginConfig(plugin, values)
