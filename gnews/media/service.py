"""Storing images and turning agencies' image URLs into ours.

:func:`local_url` is the one rule pages, the kiosk, the console and the API follow: an agency's
URL becomes ``/media/{sha256}`` when we hold its image, else None (and then no image is shown:
never the remote URL). :func:`local_html` applies it to an item's HTML body.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterable

import nh3

from gnews.core.errors import NotFoundError
from gnews.core.persistence import insert, is_duplicate_key
from gnews.media.images import RefusedImage, VerifiedImage, verify_image
from gnews.media.models import MEDIA_ID_PATTERN, CachedImage, MediaObject

__all__ = [
    "MEDIA_PATH",
    "CachedImage",
    "RefusedImage",
    "VerifiedImage",
    "html_image_urls",
    "local_html",
    "local_url",
    "media_or_404",
    "store_image",
]

MEDIA_PATH = "/media"
_MEDIA_ID = re.compile(MEDIA_ID_PATTERN)
# An <img> as nh3 writes it: every attribute as name="value" (a ">" may stay inside a value).
_IMG_TAG = re.compile(r'<img((?:\s+[^\s=>]+="[^"]*")*)\s*/?>')
_ATTRIBUTE = re.compile(r'\s+([^\s=>]+)="[^"]*"')


def local_url(url: str | None, cached: Iterable[CachedImage]) -> str | None:
    """``/media/{sha256}`` when the image at ``url`` is cached (one of the pairs ``cached``),
    else None."""
    if not url:
        return None
    for pair in cached:
        if pair.url == url:
            return f"{MEDIA_PATH}/{pair.media_id}"
    return None


def _clean(html: str, src: dict[str, str | None] | None, seen: list[str]) -> str:
    def attribute(tag: str, name: str, value: str) -> str | None:
        if tag == "img" and name == "src":
            seen.append(value)
            return src.get(value) if src is not None else value
        return value

    return nh3.clean(html, attribute_filter=attribute, link_rel="noopener noreferrer nofollow")


def html_image_urls(html: str) -> list[str]:
    """The ``src`` of each ``<img>`` of ``html``, as :func:`local_html` sees them (nh3 parses
    both, so the URLs the job caches are those the page looks up)."""
    seen: list[str] = []
    if "<img" in html:
        _clean(html, None, seen)
    return list(dict.fromkeys(seen))


def local_html(html: str, cached: Iterable[CachedImage]) -> str:
    """An item's HTML body for a page: sanitised again (nh3's default allow-list; the last
    place a script could get in), each ``<img src>`` pointing at our copy, and each ``<img>``
    whose image we do not hold removed (never the agency's URL)."""
    pairs = list(cached)
    src = {url: local_url(url, pairs) for url in html_image_urls(html)}
    cleaned = _clean(html, src, [])
    # nh3 dropped the src of those not held: drop the tag itself (no broken-image box).
    return _IMG_TAG.sub(lambda tag: tag[0] if "src" in _ATTRIBUTE.findall(tag[1]) else "", cleaned)


def media_id_of(data: bytes) -> str:
    """The id of an image: the SHA-256 of its bytes, hex."""
    return hashlib.sha256(data).hexdigest()


async def store_image(data: bytes, source_url: str) -> MediaObject:
    """Verify ``data`` (:func:`~gnews.media.images.verify_image`, in a thread) and store it once:
    the same bytes stored before (or by a concurrent job) are the same document.
    Raises :class:`RefusedImage`."""
    verified = await asyncio.to_thread(verify_image, data)
    media_id = media_id_of(data)
    known = await MediaObject.get(media_id)
    if known is not None:
        return known
    media = MediaObject(
        _id=media_id,
        content_type=verified.content_type,
        size=len(data),
        width=verified.width,
        height=verified.height,
        data=data,
        source_url=source_url,
    )
    try:
        return await insert(media)
    except Exception as error:
        if not is_duplicate_key(error):
            raise
    # Another job stored the same bytes in between: theirs is ours.
    stored = await MediaObject.get(media_id)
    if stored is None:  # pragma: no cover - a duplicate key means it exists
        raise RuntimeError(f"media {media_id} vanished after a duplicate key")
    return stored


async def media_or_404(media_id: str) -> MediaObject:
    """A stored image, or :class:`NotFoundError` for an unknown or malformed id."""
    if not _MEDIA_ID.fullmatch(media_id):
        raise NotFoundError("no such image (an image id is 64 hex digits)")
    media = await MediaObject.get(media_id)
    if media is None:
        raise NotFoundError("no such image")
    return media
