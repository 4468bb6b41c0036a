"""``GET /media/{sha256}``: a cached image, from our own host (docs/site.md#images)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from gnews.config import Settings
from gnews.media import service

# The id is the hash of the bytes: what a URL names never changes.
IMMUTABLE = "public, max-age=31536000, immutable"


def media_origin(request: Request) -> str:
    """The origin of the API's ``image_local_url`` / ``icon_local_url``: the public site's
    (``GNEWS_PUBLIC_BASE_URL``, else the request's, as the site's absolute links)."""
    settings: Settings = request.app.state.settings
    return settings.public_origin(str(request.base_url))


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 says for it)."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


class MediaController(Controller):
    """Images the worker fetched from agencies and verified, served as Pillow decoded them."""

    path = "/media"
    include_in_schema = False  # like the site's pages: bytes for <img>, not an API
    # Not rate-limited with the reads: a page of 20 items asks for 20 images, and browsers keep
    # them for a year; each is one lookup by _id.

    @get("/{media_id:str}")
    async def image(self, request: Request, media_id: FromPath[str]) -> Response[bytes]:
        """The image's bytes; 304 for a matching ``If-None-Match``; 404 for an unknown or
        malformed id."""
        media = await service.media_or_404(media_id)
        etag = f'"{media.id}"'
        headers = {
            "Cache-Control": IMMUTABLE,
            "ETag": etag,
            "X-Content-Type-Options": "nosniff",
            # An image opened on its own runs nothing and loads nothing.
            "Content-Security-Policy": "default-src 'none'",
        }
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(b"", status_code=304, headers=headers)
        return Response(media.data, media_type=media.content_type, headers=headers)
