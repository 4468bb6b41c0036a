"""How a device proves who it is: the ``device`` dependency of every route that names a device
in its path and sends ``Authorization: Device <secret>`` (see :mod:`gnews.devices.controllers`)."""

from __future__ import annotations

from litestar import Request

from gnews.core.errors import NotFoundError, UnauthorizedError
from gnews.devices import service
from gnews.devices.models import Device

DEVICE_SECRET: list[dict[str, list[str]]] = [{"DeviceSecret": []}]
"""OpenAPI security requirement of the routes a device calls with its secret."""

AUTH_SCHEME = "device"


async def provide_device(request: Request) -> Device:
    """Dependency ``device``: the device of the path, authenticated by its secret (401 without
    an ``Authorization: Device <secret>`` header, 404 for anything that does not match)."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != AUTH_SCHEME or not secret.strip():
        raise UnauthorizedError(
            "send the device secret: Authorization: Device <secret>",
            headers={"WWW-Authenticate": "Device"},
        )
    device = await service.authenticate(request.path_params["device_id"], secret.strip())
    if device is None:
        raise NotFoundError("no such device")
    return device
