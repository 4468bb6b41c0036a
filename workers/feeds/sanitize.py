"""HTML from feeds: allow-list sanitising (nh3) and conversion to plain text.

:func:`sanitize_html` keeps a small set of tags suitable for a news article body (see
:data:`ALLOWED_TAGS` / :data:`ALLOWED_ATTRIBUTES`); everything else is stripped, keeping its
text, except :data:`DROP_WITH_CONTENT` tags (script, style, iframe, ...) which are removed with
their content. No ``class``/``style``/``id``/``on*`` attributes survive. URLs must be http(s)
(``mailto:`` is also allowed on links); relative URLs are resolved against ``base_url``, or
dropped when there is no base (they would otherwise point at our own app). Every link gets
``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

import html as html_lib
import re
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "DROP_WITH_CONTENT",
    "LINK_REL",
    "html_to_text",
    "sanitize_html",
]

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        # text blocks and inline formatting
        "p", "br", "hr", "div", "span", "blockquote", "q", "cite", "pre", "code",
        "strong", "em", "b", "i", "u", "s", "sub", "sup", "small", "mark", "abbr",
        # headings (h1 is the article title in the app, so it is reduced to its text)
        "h2", "h3", "h4", "h5", "h6",
        # lists
        "ul", "ol", "li", "dl", "dt", "dd",
        # links and images
        "a", "img", "figure", "figcaption",
        # tables (agency announcements often use them)
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
DROP_WITH_CONTENT: frozenset[str] = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
        "noscript", "template", "svg", "math", "head", "title", "select", "textarea",
    }
)  # fmt: skip
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

_SCHEME_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):")
_IMG_WITHOUT_SRC_RE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
_WS_RE = re.compile(r"\s+")


def sanitize_html(html: str, *, base_url: str | None = None) -> str:
    """Sanitise ``html`` for display in the app; relative URLs resolved against ``base_url``."""
    if not html or not html.strip():
        return ""
    base = base_url if base_url and is_http_url(base_url) else None
    try:
        cleaner = _cleaner(base)
    except ValueError:  # a base URL nh3's URL parser refuses: relative URLs are dropped
        cleaner = _cleaner(None)
    cleaned = cleaner.clean(html)
    cleaned = _IMG_WITHOUT_SRC_RE.sub("", cleaned)
    return cleaned.strip()


@lru_cache(maxsize=256)
def _cleaner(base_url: str | None) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes=set(URL_SCHEMES),
        url_relative=("rewrite_with_base", base_url) if base_url else "deny",
    )


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src") and not value.strip():
        return None  # would resolve to the base page itself
    if tag == "img" and attribute == "src":
        match = _SCHEME_RE.match(value)
        if match and match.group(1).lower() not in ("http", "https"):
            return None  # no mailto:/data: images
    if attribute in ("width", "height"):
        value = value.strip()
        return value if value.isdigit() or re.fullmatch(r"\d{1,3}%", value) else None
    return value


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host (and a port, if any, that is a number)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# -- plain text ---------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
_SKIP_TAGS = frozenset(DROP_WITH_CONTENT)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            if self._skip_depth:
                self._skip_depth -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags removed (script/style content dropped), block
    elements separated by a space, entities unescaped, whitespace collapsed to single spaces."""
    if not html:
        return ""
    if "<" not in html:
        text = html_lib.unescape(html)
    else:
        parser = _TextExtractor()
        try:
            parser.feed(html)
            parser.close()
        except Exception:  # HTMLParser is lenient, but never let odd markup break ingestion
            return _WS_RE.sub(" ", html_lib.unescape(re.sub(r"<[^>]*>", " ", html))).strip()
        text = "".join(parser.parts)
    # U+200B (zero width space) is used in Thai text as an invisible word separator: drop it,
    # it breaks search. Non-breaking and other Unicode spaces are matched by \s.
    text = text.replace("\u200b", "").replace("\ufeff", "")
    return _WS_RE.sub(" ", text).strip()
