"""What may be stored as an image: bytes Pillow decodes as JPEG, PNG, GIF or WebP, within the
pixel limit. SVG (it can carry scripts), HTML and anything else is refused, and so is a
decompression bomb (a small file declaring huge dimensions)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Pillow's format name -> the content type we serve (the decoded format, never the remote header)
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
# 40 megapixels (8000 x 5000): more than any press photo or app screenshot, and its decoded
# pixels (~120 MB in RGB) stay within what a worker can hold. Pillow's own guard is kept too
# (a warning past MAX_IMAGE_PIXELS, about 89 megapixels, raised as an error here).
MAX_PIXELS = 40_000_000


class RefusedImage(ValueError):
    """The bytes are not an image we store; ``str(error)`` says why (one line, for the log)."""


@dataclass(frozen=True, slots=True)
class VerifiedImage:
    """What Pillow decoded."""

    content_type: str
    width: int
    height: int


def verify_image(data: bytes) -> VerifiedImage:
    """Decode ``data`` fully with Pillow; raise :class:`RefusedImage` unless it is a JPEG, PNG,
    GIF or WebP (the format its bytes decode as, whatever its name or header said) of at most
    :data:`MAX_PIXELS` pixels that decodes without error. CPU work: run it in a thread."""
    if not data:
        raise RefusedImage("empty body")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES)) as image:
                fmt = image.format or ""
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise RefusedImage(f"decompression bomb: {width}x{height} pixels")
                image.load()  # decode every pixel: a truncated or corrupt image fails here
    except RefusedImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise RefusedImage(f"decompression bomb: {error}") from None
    except UnidentifiedImageError:
        raise RefusedImage("not a JPEG, PNG, GIF or WebP image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise RefusedImage(f"image does not decode: {error}") from None
    if fmt not in CONTENT_TYPES:
        raise RefusedImage(f"format {fmt or 'unknown'} is not allowed")
    return VerifiedImage(CONTENT_TYPES[fmt], width, height)
