"""A device's notification inbox (``/api/v1/devices/{id}/notifications``, device secret) and
a notification's delivery figures for staff (``/api/v1/notifications/{id}``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery
from pydantic import BaseModel, Field

from gnews.accounts.guards import BEARER, requires
from gnews.accounts.models import Role
from gnews.clock import UtcDateTime
from gnews.db import object_id
from gnews.devices.controllers import DEVICE_SECRET, provide_device
from gnews.devices.models import Device
from gnews.http_cache import encode, json_response
from gnews.localisation import Language, choose_language, pick
from gnews.notifications import service
from gnews.notifications.models import (
    InboxEntry,
    Notification,
    NotificationStats,
    NotificationStatus,
)
from gnews.pagination import Cursor, Limit, Page, check_limit
from gnews.rate_limit import READS, rate_limited


class InboxItemOut(BaseModel):
    """A notification the device was sent, in the page's language (Thai when there is no
    English text)."""

    id: str = Field(description="the notification's id")
    title: str
    body: str
    data: dict[str, str]
    news_item_id: str | None
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


class NotificationOut(BaseModel):
    """A notification with its delivery and open counts."""

    id: str
    title_th: str
    title_en: str | None
    body_th: str
    body_en: str | None
    data: dict[str, str]
    news_item_id: str | None
    status: NotificationStatus
    stats: NotificationStats
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, notification: Notification) -> NotificationOut:
        """Convert a stored notification."""
        values: dict[str, Any] = notification.model_dump(include=set(cls.model_fields) - {"id"})
        return cls(id=str(notification.id), **values)


class NotificationController(Controller):
    """Notifications as EGA staff see them (sending them is the push service's part)."""

    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [requires(Role.ADMIN, Role.EDITOR, api_keys=False)]
    security = BEARER

    @get("/{notification_id:str}", summary="One notification with its figures")
    async def get_notification(self, notification_id: FromPath[str]) -> NotificationOut:
        """Counts (``stats``): targeted, sent, failed, opened (each device once)."""
        oid = object_id(notification_id)
        notification = await Notification.get(oid) if oid is not None else None
        if notification is None:
            raise NotFoundException("no such notification")
        return NotificationOut.of(notification)
