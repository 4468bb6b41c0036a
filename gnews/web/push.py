"""What a browser needs to subscribe to Web Push: the service worker at ``/sw.js`` (served from
the root so its scope is the whole site) and the server's VAPID public key (the
``applicationServerKey`` of ``pushManager.subscribe``) at ``GET /api/v1/push/web/key``.

The subscription itself is registered as a device of platform ``web`` through the device API
(``POST /api/v1/devices``) by ``static/site/notify.js``; the ``web`` transport
(``workers.push.webpush``) sends to it. See ``docs/push.md``.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Controller, Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from pydantic import BaseModel, Field

from gnews.config import Settings
from gnews.core.errors import NotFoundError
from gnews.web.rendering import STATIC

SERVICE_WORKER = STATIC / "site" / "sw.js"


class WebPushKeyOut(BaseModel):
    """The server's VAPID public key, for ``pushManager.subscribe``."""

    platform: str = Field("web", description="register subscriptions as devices of it")
    public_key: str = Field(
        description="the uncompressed P-256 point, base64url: the applicationServerKey"
    )


@lru_cache(maxsize=4)
def _public_key(path: Path, modified: float) -> str:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an EC (P-256) key")
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def application_server_key(key_file: Path) -> str:
    """The base64url public key of the VAPID key in ``key_file`` (read again when it changes)."""
    return _public_key(key_file, key_file.stat().st_mtime)


class WebPushKeyController(Controller):
    """The VAPID public key browsers subscribe with."""

    path = "/api/v1/push/web"
    tags = ["devices"]

    @get(
        "/key",
        summary="The VAPID public key for Web Push subscriptions",
        cache_control=CacheControlHeader(max_age=300, public=True),
        raises=[NotFoundError],  # type: ignore[list-item]  # gnews.core.openapi reads its status
    )
    async def key(self, settings: NamedDependency[Settings]) -> WebPushKeyOut:
        """Pass ``public_key`` (base64url decoded to bytes) as ``applicationServerKey`` to
        ``pushManager.subscribe``, then register ``JSON.stringify(subscription)`` as the
        ``push_token`` of a ``web`` device. 404 when Web Push is not configured here."""
        key_file = settings.webpush_vapid_key_file
        if key_file is None:
            raise NotFoundError("Web Push is not configured (GNEWS_WEBPUSH_VAPID_KEY_FILE)")
        try:
            public_key = application_server_key(key_file)
        except (OSError, ValueError) as error:
            raise NotFoundError(f"Web Push is not available: {error}") from None
        return WebPushKeyOut(public_key=public_key)


@get(
    "/sw.js",
    include_in_schema=False,
    cache_control=CacheControlHeader(no_cache=True),  # browsers look for updates every visit
)
async def service_worker() -> Response[bytes]:
    """The service worker: shows a pushed notification and opens its item page on a click."""
    return Response(SERVICE_WORKER.read_bytes(), media_type="text/javascript")


web_push = Router("/", route_handlers=[WebPushKeyController, service_worker])
"""Both, for ``gnews.app.route_handlers`` (neither needs the database)."""
