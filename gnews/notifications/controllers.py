"""A device's notification inbox (``/api/v1/devices/{id}/notifications``, device secret), the
notifications staff and agencies send (``/api/v1/notifications``), and a breaking news item
turned into a notification in one call (``/api/v1/editorial/items/{id}/notify``).

The rules are in :mod:`gnews.notifications.service`; the sending in ``workers/``."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody

from gnews.accounts.guards import BEARER, Principal, requires
from gnews.accounts.models import Role
from gnews.config import Settings
from gnews.core.dependencies import RedisClient
from gnews.core.http_cache import encode, json_response
from gnews.core.localisation import Language, choose_language
from gnews.core.pagination import Cursor, Limit, Page, check_limit
from gnews.core.rate_limit import READS, rate_limited
from gnews.devices.dependencies import DEVICE_SECRET, provide_device
from gnews.devices.models import Device
from gnews.notifications import service
from gnews.notifications.models import NotificationStatus
from gnews.notifications.schemas import (
    DraftChangesIn,
    InboxItemOut,
    InboxPage,
    NotificationIn,
    NotificationOut,
    NotifyIn,
    PreviewIn,
    PreviewOut,
    SendIn,
)


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
        settings: NamedDependency[Settings],
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
            items=[
                InboxItemOut.of(
                    entry, note, language, settings.public_origin(str(request.base_url))
                )
                for entry, note in entries
            ],
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
        redis: RedisClient,
    ) -> NotificationOut:
        """Status ``scheduled`` until the worker starts it (at once, or at ``send_at``), or
        ``draft`` with ``"draft": true``. Agency users: only with a published ``news_item_id``
        of their agency (403 without one, 404 for another agency's)."""
        notification = await service.create_notification(data.values(), principal, redis)
        return NotificationOut.from_document(notification)

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
        return Page.of(
            NotificationOut.from_document,
            await service.list_notifications(principal, status, check_limit(limit), cursor),
        )

    @get("/{notification_id:str}", summary="One notification with its live figures")
    async def get_notification(
        self, notification_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> NotificationOut:
        """``stats``: targeted, sent, failed (and by reason), deactivated, skipped, opened."""
        return NotificationOut.from_document(
            await service.notification_for(notification_id, principal)
        )

    @patch("/{notification_id:str}", summary="Change a draft")
    async def update_draft(
        self,
        notification_id: FromPath[str],
        data: JSONBody[DraftChangesIn],
        principal: NamedDependency[Principal],
    ) -> NotificationOut:
        """Texts, image, priority, data, audience of a draft; 409 once it is not a draft."""
        notification = await service.update_draft(notification_id, data.values(), principal)
        return NotificationOut.from_document(notification)

    @post("/{notification_id:str}/send", summary="Send a draft", status_code=200)
    async def send_draft(
        self,
        notification_id: FromPath[str],
        principal: NamedDependency[Principal],
        redis: RedisClient,
        data: JSONBody[SendIn | None] = None,
    ) -> NotificationOut:
        """Now, or at ``send_at``, until ``expires_at`` / ``ttl_seconds`` as in a new
        notification: the draft becomes ``scheduled``. 409 unless it is a draft."""
        values = data.model_dump() if data is not None else {}
        notification = await service.send_draft(notification_id, values, principal, redis)
        return NotificationOut.from_document(notification)

    @post("/{notification_id:str}/cancel", summary="Stop sending", status_code=200)
    async def cancel(
        self, notification_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> NotificationOut:
        """No batch not yet sent goes out (those in flight finish); a draft is discarded.
        Repeating it is harmless; 409 for a notification that is done, failed or expired."""
        return NotificationOut.from_document(await service.cancel(notification_id, principal))


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
        redis: RedisClient,
        data: JSONBody[NotifyIn | None] = None,
    ) -> NotificationOut:
        """Title and summary of the item, linking to it, to the item's provinces (everyone for
        national news) unless the body says otherwise. 409 unless published and breaking;
        agency users: their agency's items only."""
        values = data.values() if data is not None else {}
        notification = await service.notify_news_item(item_id, values, principal, redis)
        return NotificationOut.from_document(notification)
