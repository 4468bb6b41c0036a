"""Decode feed bytes to correct Unicode text.

Old Thai government sites serve TIS-620 / ISO-8859-11 / windows-874 and often declare it
wrongly (UTF-8 bytes with ``encoding="TIS-620"``, TIS-620 bytes declared as UTF-8 or as the
Apache default ISO-8859-1, or no declaration at all). :func:`decode_feed` picks the encoding
with these rules, first match wins:

1. a byte-order mark (UTF-8/16/32);
2. the body is valid UTF-8 -> UTF-8 (a multi-byte text that decodes as strict UTF-8 is
   practically never anything else, whatever is declared);
3. the declared encoding -- HTTP ``charset`` first, then the XML declaration -- if the bytes
   decode with it. TIS-620, ISO-8859-11 and windows-874 are all decoded as ``cp874`` (the
   superset). A declared Western single-byte charset (ISO-8859-1, windows-1252, ...) is not
   trusted when the bytes read as Thai in cp874: that is a Thai site with a server default;
4. nearly valid UTF-8 (a few corrupt bytes in otherwise UTF-8 text) -> UTF-8, replacing
   the bad bytes;
5. the bytes look like Thai text in cp874 -> cp874;
6. latin-1 (never fails).

The XML declaration of the result is rewritten to ``encoding="utf-8"`` (and leading
whitespace before it removed) so the text can be encoded to UTF-8 and handed to feedparser
without it decoding the bytes a second time with the wrong codec.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_feed", "detect_feed_encoding", "looks_thai"]

_THAI_ALIASES = {
    "tis-620",
    "tis620",
    "tis_620",
    "tis-620-2533",
    "iso-8859-11",
    "iso8859-11",
    "iso_8859-11",
    "iso-ir-166",
    "windows-874",
    "x-windows-874",
    "cp874",
    "ms874",
    "dos-874",
    "thai",
}
# Charsets that servers and CMSs put on pages by default; a Thai site labelled with one of these
# is usually just mislabelled.
_WESTERN_DEFAULTS = {"latin_1", "iso8859-1", "cp1252", "ascii", "iso8859-15"}

_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:\-]+)""", re.IGNORECASE)
_XML_DECL_RE = re.compile(r"""^\s*<\?xml\b[^>]*?\?>""", re.IGNORECASE)
_XML_DECL_ENCODING_RE = re.compile(
    r"""(\bencoding\s*=\s*)(["'])([A-Za-z0-9._:\-]*)\2""", re.IGNORECASE
)

_THAI_BASE = range(0x0E01, 0x0E31)  # consonants and leading/following vowels
_THAI_MARKS = {0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)}  # combining marks


def decode_feed(body: bytes, content_type: str | None) -> str:
    """Return the feed as text, with its XML declaration saying ``encoding="utf-8"``."""
    text, _ = _decode(body, content_type)
    return _fix_xml_declaration(text)


def detect_feed_encoding(body: bytes, content_type: str | None) -> str:
    """The Python codec name :func:`decode_feed` uses for ``body`` (for logging/diagnostics)."""
    return _decode(body, content_type)[1]


def looks_thai(text: str) -> bool:
    """True when the non-ASCII characters of ``text`` are well-formed Thai.

    Thai marks (vowels above/below, tone marks) must follow a Thai letter, and Thai letters
    come in runs (words). Latin-1 text read as cp874 fails both tests: its accented letters
    become isolated Thai characters, many of them marks after an ASCII letter.
    """
    non_ascii = thai = bad_marks = runs = 0
    prev_thai = False
    for ch in text:
        cp = ord(ch)
        if cp < 0x80:
            prev_thai = False
            continue
        non_ascii += 1
        if 0x0E01 <= cp <= 0x0E5B:
            thai += 1
            if cp in _THAI_MARKS and not prev_thai:
                bad_marks += 1
            if not prev_thai:
                runs += 1
            prev_thai = True
        else:
            prev_thai = False
    if thai == 0 or thai < 0.95 * non_ascii:
        return False
    if bad_marks > 0.02 * thai:
        return False
    return thai / runs >= 2.0


def _decode(body: bytes, content_type: str | None) -> tuple[str, str]:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            try:
                return body[len(bom) :].decode(codec), codec
            except UnicodeDecodeError:
                break

    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    thai_text: str | None = None

    def thai_reading() -> str:
        nonlocal thai_text
        if thai_text is None:
            thai_text = body.decode("cp874", errors="replace")
        return thai_text

    for declared in _declared_encodings(body, content_type):
        if declared == "utf-8":
            continue  # already failed strictly; handled by the lenient step below
        try:
            text = body.decode(declared)
        except (UnicodeDecodeError, LookupError):
            continue
        if declared in _WESTERN_DEFAULTS and _mostly_thai(thai_reading()):
            return thai_reading(), "cp874"
        return text, declared

    lenient = body.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    non_ascii = sum(1 for ch in lenient if ord(ch) >= 0x80)
    if non_ascii and bad <= 0.02 * non_ascii:
        return lenient, "utf-8"

    if _mostly_thai(thai_reading()):
        return thai_reading(), "cp874"
    return body.decode("latin-1"), "latin_1"


def _mostly_thai(text: str) -> bool:
    replaced = text.count("\ufffd")
    if replaced:
        non_ascii = sum(1 for ch in text if ord(ch) >= 0x80)
        if replaced > 0.01 * non_ascii:
            return False
        text = text.replace("\ufffd", "")
    return looks_thai(text)


def _declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    """Declared encodings as Python codec names: HTTP charset first, then the XML one."""
    found: list[str] = []
    if content_type:
        match = _CHARSET_RE.search(content_type)
        if match:
            found.append(match.group(1))
    head = body[:512].decode("ascii", errors="replace")
    decl = _XML_DECL_RE.match(head)
    if decl:
        match = _XML_DECL_ENCODING_RE.search(decl.group(0))
        if match and match.group(3):
            found.append(match.group(3))
    codecs_found: list[str] = []
    for name in found:
        codec = _codec_name(name)
        if codec and codec not in codecs_found:
            codecs_found.append(codec)
    return codecs_found


def _codec_name(label: str) -> str | None:
    label = label.strip().lower()
    if label in _THAI_ALIASES:
        return "cp874"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in ("iso8859-11", "tis-620", "cp874"):
        return "cp874"
    if name.startswith("utf-8"):
        return "utf-8"
    return name


def _fix_xml_declaration(text: str) -> str:
    match = _XML_DECL_RE.match(text)
    if not match:
        return text
    decl = match.group(0).lstrip()
    if _XML_DECL_ENCODING_RE.search(decl):
        decl = _XML_DECL_ENCODING_RE.sub(r"\g<1>\g<2>utf-8\g<2>", decl, count=1)
    return decl + text[match.end() :]
