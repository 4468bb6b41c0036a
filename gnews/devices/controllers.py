"""``/api/v1/devices``: phones register, read and change their own device, and read their feed.

Authentication: ``POST /api/v1/devices`` answers the device's ``id`` and ``secret`` (shown once;
registering the same push token again updates that device and issues a new secret, see
:mod:`gnews.devices.service`). Every other call names the device in the path and sends
``Authorization: Device <secret>``:

* no ``Authorization: Device …`` header → 401;
* a wrong secret, an unknown or malformed id, a deactivated device → 404, the same answer in
  every case, so nobody learns whether a device exists.

A device sees and changes only itself: another device's id with one's own secret is a 404.
Registration spends the ``registrations`` budget of the client address, every other call the
``reads`` budget (:mod:`gnews.core.rate_limit`); 429 with ``Retry-After`` beyond.
"""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody

from gnews.core.http_cache import encode, json_response
from gnews.core.localisation import Language, choose_language
from gnews.core.pagination import Cursor, Limit, check_limit
from gnews.core.rate_limit import READS, REGISTRATIONS, rate_limited
from gnews.devices import service
from gnews.devices.dependencies import DEVICE_SECRET, provide_device
from gnews.devices.models import Device
from gnews.devices.platforms import push_platforms
from gnews.devices.schemas import (
    DeviceIn,
    DeviceOut,
    DevicePatch,
    PlatformOut,
    RegisteredDeviceOut,
)
from gnews.media.controllers import media_origin
from gnews.news import feed
from gnews.news.schemas import FeaturedFirst, SearchQuery, Since
from gnews.news.search import check_query

NO_STORE = CacheControlHeader(no_store=True)

_DEVICE_FEED = {
    200: ResponseSpec(data_container=feed.NewsPage, description="a page of the device's news")
}


class DeviceController(Controller):
    """Register a device; read, change and deactivate it; read its feed."""

    path = "/api/v1/devices"
    tags = ["devices"]
    dependencies = {"device": Provide(provide_device)}

    @post(
        "/",
        summary="Register a device (or re-register its push token)",
        guards=[rate_limited(REGISTRATIONS)],
        cache_control=NO_STORE,
    )
    async def register(self, data: JSONBody[DeviceIn]) -> RegisteredDeviceOut:
        """201 with the device and its secret (shown once). A push token already registered
        updates that device and issues a new secret (the old one stops working). 422 naming
        the field for an unknown province, category or agency, a malformed token, too long a
        list."""
        device, secret = await service.register(data.model_dump(mode="json"))
        return RegisteredDeviceOut.from_document(device, secret=secret)

    @get(
        "/platforms",
        summary="The push platforms devices may register for",
        guards=[rate_limited(READS)],
        cache_control=CacheControlHeader(max_age=300, public=True),
    )
    async def list_platforms(self) -> list[PlatformOut]:
        """The platforms the loaded push plugins serve (``platform`` of a registration), with
        the limits notifications to them are checked against."""
        return [
            PlatformOut(
                name=platform.name,
                label_th=platform.label_th,
                label_en=platform.label_en,
                max_title_chars=platform.max_title_chars,
                max_body_chars=platform.max_body_chars,
                max_payload_bytes=platform.max_payload_bytes,
            )
            for platform in push_platforms()
        ]

    @get(
        "/{device_id:str}",
        summary="The device",
        guards=[rate_limited(READS)],
        security=DEVICE_SECRET,
        cache_control=NO_STORE,
    )
    async def get_device(self, device: NamedDependency[Device]) -> DeviceOut:
        """401 without the device secret; 404 for a wrong one or an unknown device."""
        return DeviceOut.from_document(device)

    @patch(
        "/{device_id:str}",
        summary="Change subscriptions, language, app version or push token",
        guards=[rate_limited(READS)],
        security=DEVICE_SECRET,
        cache_control=NO_STORE,
    )
    async def update_device(
        self, device: NamedDependency[Device], data: JSONBody[DevicePatch]
    ) -> DeviceOut:
        """Only the fields sent change (lists are replaced). A new push token must fit the
        device's platform (422) and not be another device's (409)."""
        changes = data.model_dump(mode="json", exclude_unset=True)
        return DeviceOut.from_document(await service.update(device, changes))

    @delete(
        "/{device_id:str}",
        summary="Deactivate the device",
        guards=[rate_limited(READS)],
        security=DEVICE_SECRET,
    )
    async def delete_device(self, device: NamedDependency[Device]) -> None:
        """204; no more pushes, and the secret stops working. Registering the push token again
        revives the device with a new secret."""
        await service.deactivate(device)

    @get(
        "/{device_id:str}/feed",
        summary="The device's news feed",
        guards=[rate_limited(READS)],
        security=DEVICE_SECRET,
        responses=_DEVICE_FEED,
    )
    async def device_feed(
        self,
        request: Request,
        device: NamedDependency[Device],
        agency: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        lang: FromQuery[Language | None] = None,
        since: Since = None,
        q: SearchQuery = None,
        featured_first: FeaturedFirst = False,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Response[bytes]:
        """``GET /api/v1/news`` shaped by the device's subscriptions: news of its provinces
        plus national news (every province's when it follows none), of its categories or
        agencies (any when it follows none). The query's filters narrow it further. Names are
        in ``lang``, else ``Accept-Language``, else the device's language. ETag / 304; private,
        revalidated on every use."""
        size = check_limit(limit)
        criteria = feed.feed_criteria(
            provinces=device.provinces,
            category=category,
            agency=agency,
            language=lang,
            since=feed.parse_since(since),
            followed_categories=device.categories,
            followed_agencies=device.agencies,
        )
        search = check_query(q)
        language = choose_language(lang, request.headers.get("accept-language"), device.language)
        page = await feed.news_page(
            criteria,
            size,
            cursor,
            language,
            q=search,
            featured_first=featured_first,
            media_origin=media_origin(request),
        )
        return json_response(request, encode(page), max_age=0, public=False)
