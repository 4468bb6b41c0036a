"""Parse a fetched feed (RSS 0.9x/1.0/2.0, Atom) into normalised :class:`FeedEntry` records.

Pipeline: :func:`~workers.feeds.encoding.decode_feed` -> feedparser (given UTF-8 bytes that are
declared as such, its own sanitiser off) -> per entry: stable key, plain-text title/summary,
sanitised HTML content (:func:`~workers.feeds.sanitize.sanitize_html`), image, dates.

Relative URLs (entry links, images, links inside content) are resolved against the entry's
link, else the feed URL given as ``base_url`` (``xml:base`` is honoured by feedparser); those
that cannot be made absolute http(s) URLs are dropped.

Keys (:attr:`FeedEntry.key`): the entry's guid/id, else its (absolute) link, else
``"sha256:" + sha256(title, raw date string, summary)``. The raw date string, never the
computed ``published_at``, goes into the hash, so an undated entry keeps its key from one fetch
to the next.

:attr:`FeedEntry.content_hash` covers title, summary, content_html, link, image_url, author,
categories and ``published_at`` (left out when ``date_missing``, since it is then the fetch
time); not ``updated_at``, which feeds bump without changing anything.

Dates (:attr:`FeedEntry.published_at`), first usable candidate wins:

1. the entry's ``published`` then ``updated`` date. feedparser's parse is used when the string
   carries an explicit zone (``+0700``, ``Z``, ``GMT`` ...); a zone-less string is read by
   :func:`gnews.thai.dates.parse_thai_datetime` (Thai month names, Thai digits, BE years),
   falling back to feedparser's fields taken as Bangkok time (UTC+7), the only sensible
   reading for Thai agencies. Buddhist Era years that feedparser took literally (2557 ->
   year 2557) are corrected with :func:`gnews.thai.dates.correct_buddhist_era`;
2. a date expression in the title, then the summary, then the content text
   (:func:`gnews.thai.dates.find_date_in_text`);
3. ``fetched_at`` with ``date_missing=True``.

Every candidate is checked against the clock: a date more than :data:`FUTURE_TOLERANCE` (1 day)
after ``now`` is rejected as unusable (a typo, an event date, or a BE year nobody corrected) and
the next candidate is tried; a date slightly in the future (within the tolerance, usually a
time-zone slip) is clamped to ``fetched_at``; dates before :data:`EARLIEST_PLAUSIBLE` (1990,
e.g. the 1970 epoch used as "no date") are rejected too. So no stored date is ever ~543 years
ahead.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import io
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urljoin

import feedparser

from gnews.thai.dates import correct_buddhist_era, find_date_in_text, parse_thai_datetime
from workers.feeds.encoding import decode_feed
from workers.feeds.sanitize import html_to_text, is_http_url, sanitize_html

__all__ = [
    "EARLIEST_PLAUSIBLE",
    "FUTURE_TOLERANCE",
    "SUMMARY_LIMIT",
    "FeedEntry",
    "FeedParseError",
    "ParsedFeed",
    "parse_feed",
    "trim_text",
]

SUMMARY_LIMIT = 500
TITLE_FROM_SUMMARY_LIMIT = 120
# Size limits on what an entry may store (a hostile feed sent a 1.5 MB title): longer text is
# cut at a word boundary, longer URLs and keys are not usable as such, content over the limit
# is dropped (cutting HTML would leave it broken) and the summary stands in for it.
TITLE_LIMIT = 300
AUTHOR_LIMIT = 200
CATEGORY_LIMIT = 100
CATEGORIES_MAX = 30
URL_LIMIT = 2048
KEY_LIMIT = 1024
CONTENT_HTML_LIMIT = 512 * 1024
WARNINGS_MAX = 5  # warnings kept per feed (then "and N more")
FUTURE_TOLERANCE = timedelta(days=1)
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")  # no DST since 1920


@dataclass(slots=True)
class FeedEntry:
    key: str  # stable: guid/id, else link, else "sha256:" + hash of title+raw date+summary
    title: str  # plain text
    summary: str  # plain text, at most ~SUMMARY_LIMIT characters, cut at a word boundary
    content_html: str  # sanitised
    link: str | None
    image_url: str | None
    author: str | None
    categories: list[str]
    published_at: datetime  # aware UTC
    date_missing: bool  # True when no usable date was found and published_at is fetched_at
    updated_at: datetime | None
    content_hash: str  # sha256 hex over the fields that matter for "content changed"


@dataclass(slots=True)
class ParsedFeed:
    title: str | None
    link: str | None
    language: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    bozo: bool = False  # feedparser found the XML malformed (entries may still be usable)
    bozo_message: str | None = None
    # Parts of entries dropped or cut (a link no parser accepts, an oversized title, an entry
    # that could not be read at all), at most WARNINGS_MAX, then how many more.
    warnings: list[str] = field(default_factory=list)


class FeedParseError(Exception):
    """The body is not a feed at all (HTML page, garbage, empty); the message says why."""


def parse_feed(
    body: bytes,
    *,
    content_type: str | None = None,
    base_url: str | None = None,
    fetched_at: datetime | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse ``body`` (raw bytes as fetched) into a :class:`ParsedFeed`.

    ``base_url`` (the feed's final URL) resolves relative links; ``fetched_at`` is the date
    given to undated entries (default ``now``); ``now`` (default: the current time) is the
    reference for rejecting future dates and for Buddhist Era correction.
    """
    now = _as_utc(now) if now is not None else datetime.now(UTC)
    fetched_at = _as_utc(fetched_at) if fetched_at is not None else now
    if not body or not body.strip():
        raise FeedParseError("not a feed: the response body is empty")

    text = decode_feed(body, content_type)
    if base_url and not is_http_url(base_url):
        base_url = None
    # feedparser gets UTF-8 bytes declared as UTF-8 (a str would be taken for a URL or a file
    # name). No base URL is given to it: it would also "resolve" guids ("item-1" ->
    # "https://host/item-1"), making keys depend on the feed's URL; xml:base is still honoured,
    # and relative links left over are resolved here and by sanitize_html.
    parsed = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,  # nh3 with our own allow-list does it (sanitize.py)
        resolve_relative_uris=True,
    )
    feed: Mapping[str, Any] = parsed.get("feed") or {}
    raw_entries: list[Mapping[str, Any]] = list(parsed.get("entries") or [])
    bozo = bool(parsed.get("bozo"))
    bozo_exc = parsed.get("bozo_exception") if bozo else None
    bozo_message = _one_line(str(bozo_exc)) if bozo_exc is not None else None
    feed_title = _text(_get(feed, "title")) or None

    if not raw_entries and (not parsed.get("version") or not feed_title):
        raise FeedParseError(_not_a_feed_reason(text, bozo_message))

    ctx = _Context(base_url=base_url, fetched_at=fetched_at, now=now)
    entries = []
    for number, raw in enumerate(raw_entries, start=1):
        try:
            entry = _entry(raw, ctx)
        except Exception as error:  # one unreadable entry never loses the others
            ctx.warn(f"entry {number} skipped, it could not be read ({type(error).__name__})")
            continue
        if entry is not None:
            entries.append(entry)
    return ParsedFeed(
        title=feed_title,
        link=_absolute_http_url(_get(feed, "link"), base_url),
        language=(_get(feed, "language") or "").strip() or None,
        entries=entries,
        bozo=bozo,
        bozo_message=bozo_message,
        warnings=ctx.summary_of_warnings(),
    )


# -- entries ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Context:
    base_url: str | None
    fetched_at: datetime
    now: datetime
    warnings: list[str] = field(default_factory=list)
    more_warnings: int = 0

    def warn(self, message: str) -> None:
        if len(self.warnings) < WARNINGS_MAX:
            self.warnings.append(message)
        else:
            self.more_warnings += 1

    def summary_of_warnings(self) -> list[str]:
        more = [f"and {self.more_warnings} more"] if self.more_warnings else []
        return self.warnings + more


def _entry(raw: Mapping[str, Any], ctx: _Context) -> FeedEntry | None:
    raw_link = _get(raw, "link")
    link = _absolute_http_url(raw_link, ctx.base_url)
    raw_title = _text(_get(raw, "title"))
    name = repr(trim_text(raw_title, 60)) if raw_title else "an untitled entry"
    if raw_link and not link:
        ctx.warn(f"{name}: link {_shorten(raw_link)} dropped (not a usable http(s) URL)")
    content_html_raw = _content_html(raw)
    summary_html = _get(raw, "summary") or ""
    summary_is_html = _is_html_type(_detail_type(raw, "summary_detail"))
    if not content_html_raw and summary_html:
        content_html_raw = summary_html if summary_is_html else _plain_to_html(summary_html)
    content_html = sanitize_html(content_html_raw, base_url=link or ctx.base_url)
    if len(content_html) > CONTENT_HTML_LIMIT:
        ctx.warn(f"{name}: content of {len(content_html):,} characters dropped (too long)")
        content_html = ""
    content_text = html_to_text(content_html)

    summary_full = _text(summary_html) if summary_html else content_text
    summary = trim_text(summary_full, SUMMARY_LIMIT)
    title = raw_title
    if len(title) > TITLE_LIMIT:
        ctx.warn(f"{name}: title of {len(title):,} characters cut to {TITLE_LIMIT}")
        title = trim_text(title, TITLE_LIMIT)
    if not title and summary_full:
        title = trim_text(summary_full, TITLE_FROM_SUMMARY_LIMIT)
    if not (title or summary or content_html or link):
        return None  # an empty <item/>

    raw_published = (_get(raw, "published") or "").strip()
    raw_updated = (_get(raw, "updated") or "").strip()
    published_at = _feed_date(raw_published, _get(raw, "published_parsed"), ctx)
    updated_at = _feed_date(raw_updated, _get(raw, "updated_parsed"), ctx)
    date_missing = False
    if published_at is None:
        published_at = updated_at
    if published_at is None:
        published_at = _date_in_text((title, summary_full, content_text), ctx)
    if published_at is None:
        published_at = ctx.fetched_at
        date_missing = True

    entry_id = (_get(raw, "id") or "").strip()
    if len(entry_id) > KEY_LIMIT:
        entry_id = "sha256:" + _sha256([entry_id])  # stable, and short enough to index
    if entry_id:
        key = entry_id
    elif link:
        key = link
    else:
        raw_date = raw_published or raw_updated
        key = "sha256:" + _sha256([title, raw_date, summary_full])

    image_url = _image_url(raw, content_html, link or ctx.base_url)
    author = _author(raw)
    if author and len(author) > AUTHOR_LIMIT:
        author = trim_text(author, AUTHOR_LIMIT)
    categories = _categories(raw)
    content_hash = _sha256(
        [
            title,
            summary,
            content_html,
            link,
            image_url,
            author,
            categories,
            None if date_missing else published_at.isoformat(),
        ]
    )
    return FeedEntry(
        key=key,
        title=title,
        summary=summary,
        content_html=content_html,
        link=link,
        image_url=image_url,
        author=author,
        categories=categories,
        published_at=published_at,
        date_missing=date_missing,
        updated_at=updated_at,
        content_hash=content_hash,
    )


def _content_html(raw: Mapping[str, Any]) -> str:
    contents = _get(raw, "content") or []
    best: str = ""
    for item in contents:
        value = (item.get("value") or "").strip()
        if not value:
            continue
        if _is_html_type(item.get("type")):
            return value
        best = best or _plain_to_html(value)
    return best


def _plain_to_html(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + html_lib.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def _image_url(raw: Mapping[str, Any], content_html: str, base: str | None) -> str | None:
    candidates: list[str] = []
    for media in _get(raw, "media_content") or []:
        url = media.get("url")
        medium = (media.get("medium") or "").lower()
        mime = (media.get("type") or "").lower()
        if url and (medium == "image" or mime.startswith("image/") or (not medium and not mime)):
            candidates.append(url)
    for thumb in _get(raw, "media_thumbnail") or []:
        if thumb.get("url"):
            candidates.append(thumb["url"])
    for link in _get(raw, "links") or []:
        if link.get("rel") == "enclosure" and (link.get("type") or "").lower().startswith("image/"):
            candidates.append(link.get("href") or "")
    match = re.search(r"""<img\b[^>]*?\ssrc="([^"]+)\"""", content_html)
    if match:
        candidates.append(html_lib.unescape(match.group(1)))
    for candidate in candidates:
        url = _absolute_http_url(candidate, base)
        if url:
            return url
    return None


def _author(raw: Mapping[str, Any]) -> str | None:
    detail = _get(raw, "author_detail") or {}
    name = detail.get("name") if isinstance(detail, Mapping) else None
    author = html_to_text(name or _get(raw, "author") or "")
    return author or None


def _categories(raw: Mapping[str, Any]) -> list[str]:
    seen: list[str] = []
    for tag in _get(raw, "tags") or []:
        term = html_to_text(tag.get("term") or tag.get("label") or "")
        if term and len(term) <= CATEGORY_LIMIT and term not in seen:
            seen.append(term)
        if len(seen) == CATEGORIES_MAX:
            break
    return seen


# -- dates --------------------------------------------------------------------------------------

_ZONE_NAME_RE = re.compile(
    r"\b(?:GMT|UTC|UT|ICT|EST|EDT|CST|CDT|MST|MDT|PST|PDT)\b|\d[Zz]\b", re.IGNORECASE
)
_ZONE_OFFSET_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*[+-]\d{2}:?\d{2}\b")


def _has_zone(raw: str) -> bool:
    return bool(_ZONE_NAME_RE.search(raw) or _ZONE_OFFSET_RE.search(raw))


def _feed_date(raw: str, parsed: time.struct_time | None, ctx: _Context) -> datetime | None:
    """A date element of the feed (see the module docstring, step 1)."""
    if not raw and parsed is None:
        return None
    from_feedparser = _struct_to_utc(parsed) if parsed is not None else None
    candidates: list[datetime | None] = []
    if from_feedparser is not None and _has_zone(raw):
        candidates.append(from_feedparser)
    else:
        if raw:
            candidates.append(_safe(parse_thai_datetime, raw, ctx.now))
        if from_feedparser is not None:
            # feedparser reads a zone-less date as UTC; a Thai feed means Bangkok time.
            candidates.append(from_feedparser.replace(tzinfo=BANGKOK).astimezone(UTC))
    for candidate in candidates:
        accepted = _accept(candidate, ctx)
        if accepted is not None:
            return accepted
    return None


def _date_in_text(texts: Iterable[str], ctx: _Context) -> datetime | None:
    for text in texts:
        if text:
            accepted = _accept(_safe(find_date_in_text, text, ctx.now), ctx)
            if accepted is not None:
                return accepted
    return None


def _accept(dt: datetime | None, ctx: _Context) -> datetime | None:
    """Apply BE correction and the plausibility rules; None when the date is unusable."""
    if dt is None:
        return None
    dt = _as_utc(dt)
    try:
        dt = _as_utc(correct_buddhist_era(dt, now=ctx.now))
    except (ValueError, OverflowError):
        return None
    if dt < EARLIEST_PLAUSIBLE:
        return None
    if dt > max(ctx.now, ctx.fetched_at) + FUTURE_TOLERANCE:
        return None
    return min(dt, ctx.fetched_at)


def _safe(func: Any, text: str, now: datetime) -> datetime | None:
    try:
        return func(text, now=now)
    except (ValueError, OverflowError, TypeError):
        return None


def _struct_to_utc(value: time.struct_time | tuple[int, ...] | None) -> datetime | None:
    if value is None:
        return None
    try:
        year, month, day, hour, minute, second = tuple(value)[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (ValueError, TypeError, OverflowError):
        return None


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# -- text helpers -------------------------------------------------------------------------------


def trim_text(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """Cut ``text`` to at most ``limit`` characters (plus "…") at a word boundary.

    Thai is written without spaces between words, so when there is no space in the last 40% of
    the allowed length the cut is placed at a word boundary found by PyThaiNLP.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    if space >= limit * 0.6:
        return head[:space].rstrip() + "…"
    return text[: _word_boundary(text, limit)].rstrip() + "…"


def _word_boundary(text: str, limit: int) -> int:
    from pythainlp.tokenize import word_tokenize  # imported lazily: it loads a dictionary

    window_start = max(0, limit - 200)
    window = text[window_start : limit + 1]
    try:
        tokens = word_tokenize(window, engine="newmm", keep_whitespace=True)
    except Exception:  # pragma: no cover - tokenizer failure must not break ingestion
        return limit
    position = window_start
    best = 0
    for token in tokens:
        position += len(token)
        if position > limit:
            break
        best = position
    # The first token of the window may start mid-word; only use boundaries after it.
    return best if best > window_start else limit


def _text(value: str | None) -> str:
    """Plain text of a feedparser text construct (HTML or not: both are unescaped/stripped)."""
    return html_to_text(value) if value else ""


def _detail_type(obj: Mapping[str, Any], key: str) -> str | None:
    detail = _get(obj, key)
    if isinstance(detail, Mapping):
        return detail.get("type")
    return None


def _is_html_type(mime: str | None) -> bool:
    return (mime or "text/html").lower() in ("text/html", "application/xhtml+xml", "html")


def _get(obj: Mapping[str, Any], key: str) -> Any:
    """Read a feedparser field without its deprecated key fall-backs (updated -> published)."""
    return dict.get(obj, key) if isinstance(obj, dict) else obj.get(key)


def _absolute_http_url(url: str | None, base: str | None) -> str | None:
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > URL_LIMIT:
        return None
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    return url if is_http_url(url) else None


def _sha256(parts: list[Any]) -> str:
    data = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _shorten(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _not_a_feed_reason(text: str, bozo_message: str | None) -> str:
    head = text[:2048].lower()
    if "<html" in head or "<!doctype html" in head:
        match = re.search(r"<title[^>]*>(.*?)</title>", text[:8192], re.IGNORECASE | re.DOTALL)
        title = html_to_text(match.group(1))[:100] if match else ""
        return "not a feed: the server sent an HTML page" + (f" ({title!r})" if title else "")
    reason = "not a feed: no RSS or Atom entries or channel title found"
    if bozo_message:
        reason += f" (XML error: {bozo_message})"
    return reason
