"""Thai-aware search over published news (``GET /api/v1/news?q=…``).

Terms: the query becomes :func:`gnews.thai.text.query_terms` (Thai segmented with PyThaiNLP into
the coarsest dictionary words, out-of-dictionary pieces into character clusters, Latin words
casefolded, stopwords dropped); items carry ``search_terms`` made by ``index_terms`` at ingestion
and on every edit. MongoDB's text index is not used: it cannot segment Thai.

Matching and ranking ("more matched terms first, then recency"):

* An item holding *every* query term is a full match: ``q=ประกันสังคม`` finds "สำนักงาน
  ประกันสังคม…" (the index holds every dictionary word inside the text), and several words find
  the items holding all of them, adjacent or not.
* When the query has two or more *words* (Latin words, numbers, Thai dictionary words of two
  letters or more), an item holding some but not all of them is a partial match, ranked after
  the full matches by how many of the query's terms it holds. The other Thai terms (the
  character clusters an unknown name or a typo is cut into, single letters) are too common to
  stand alone: every match, partial or full, must hold all of them.
* Why not rank by the query terms' finer sub-words ("ประกันสังคม" -> "ประกัน", "สังคม")? The
  index of an item holding a word also holds every dictionary word inside it, so every match
  would score the same: the count only means something across the query's own terms.
* Equal counts: newest ``published_at`` first, then the larger id.

Bounded work: full matches are read a page at a time, newest first, as one range on the items'
``sort_key`` (``published_at`` then id) with the feed's filter and ``$all`` of the terms, which
MongoDB serves from the ``(status, search_terms, sort_key, _id)`` index and the embedded server
by walking its ``sort_key`` index. Partial matches (after the last full match) are read as the
newest :data:`CANDIDATES` (keys only), counted and ranked in Python, and the page's items
fetched by id. Partial matches older than that many newer ones are not found; a partial
match's count is exact.
Only ``$all`` / ``$in`` on ``search_terms``, ``find`` with projections and ``sort`` are used.

Pagination is keyset on the ranking key ``(count, published_at, id)``: the cursor holds the last
item's key and the next page continues strictly after it, so items arriving between pages are
neither repeated nor skipped (they appear only if they rank after the cursor).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from beanie.odm.enums import SortDirection
from bson import ObjectId
from bson.errors import InvalidId
from pythainlp.corpus import thai_words

from gnews.core.clock import as_utc
from gnews.core.errors import FieldError
from gnews.core.pagination import decode_cursor, encode_cursor, time_key
from gnews.core.persistence.shapes import all_of
from gnews.news.models import NewsItem
from gnews.thai.text import query_terms

CANDIDATES = 1000
"""Most full matches, and most partial matches, ranked for one query."""

MAX_QUERY_LENGTH = 200
"""Longest ``q`` accepted, in characters (422 naming ``q`` beyond)."""

_THAI_START = "\u0e01"
_THAI_END = "\u0e7f"


class Ranked(NamedTuple):
    """The ranking key of a match: more terms first, then newer, then larger id."""

    matched: int
    published_at: datetime
    id: ObjectId


def check_query(q: str | None) -> str | None:
    """``q`` stripped, None when blank; 422 naming ``q`` when it is too long."""
    if q is None or not q.strip():
        return None
    if len(q) > MAX_QUERY_LENGTH:
        raise FieldError("q", f"at most {MAX_QUERY_LENGTH} characters")
    return q.strip()


@functools.cache
def _thai_dictionary() -> frozenset[str]:
    return frozenset(thai_words())


def is_word(term: str) -> bool:
    """True for a term that may match on its own: a Latin word, a number, a Thai dictionary
    word of two letters or more; False for other Thai pieces (single clusters or letters)."""
    if not any(_THAI_START <= char <= _THAI_END for char in term):
        return True
    return len(term) > 1 and term in _thai_dictionary()


def _and(*conditions: Mapping[str, Any]) -> dict[str, Any]:
    return all_of([c for c in conditions if c])


async def _keys(query: Mapping[str, Any], limit: int = CANDIDATES) -> list[tuple[datetime, Any]]:
    """``(published_at, _id)`` of the newest ``limit`` items matching ``query``."""
    found = (
        NewsItem.get_pymongo_collection()
        .find(query, {"published_at": 1, "sort_key": 1})
        .sort([("sort_key", -1)])
        .limit(limit)
    )
    return [(as_utc(doc["published_at"]), doc["_id"]) async for doc in found]


async def _holding(ids: list[Any], term: str) -> set[Any]:
    """Which of ``ids`` hold ``term``."""
    found = NewsItem.get_pymongo_collection().find(
        {"_id": {"$in": ids}, "search_terms": {"$in": [term]}}, {"_id": 1}
    )
    return {doc["_id"] async for doc in found}


async def full_matches(
    criteria: Mapping[str, Any], terms: list[str], limit: int, after: Ranked | None = None
) -> list[NewsItem]:
    """The newest ``limit`` items holding every term (after ``after``, a full match)."""
    query = _and(criteria, {"search_terms": {"$all": terms}})
    if after is not None:
        query = _and(query, {"sort_key": {"$lt": time_key(after.published_at, after.id)}})
    found = NewsItem.find(query).sort([("sort_key", SortDirection.DESCENDING)])
    return await found.limit(limit).to_list()


async def ranked_matches(
    criteria: Mapping[str, Any], terms: list[str], *, partial_only: bool = False
) -> list[Ranked]:
    """Every candidate match of ``terms`` among items matching ``criteria``, best first;
    with ``partial_only`` only those holding some but not all of them."""
    ranked: dict[Any, Ranked] = {}
    if not partial_only:
        ranked = {
            oid: Ranked(len(terms), published_at, oid)
            for published_at, oid in await _keys(_and(criteria, {"search_terms": {"$all": terms}}))
        }
    words = [term for term in terms if is_word(term)]
    if len(words) >= 2:
        required = [term for term in terms if not is_word(term)]
        partial = [
            key
            for key in await _keys(
                _and(
                    criteria,
                    {"search_terms": {"$all": required}} if required else {},
                    {"search_terms": {"$in": words}},
                )
            )
            if key[1] not in ranked
        ]
        if partial:
            ids = [oid for _, oid in partial]
            counts = dict.fromkeys(ids, len(required))
            for word in words:
                for oid in await _holding(ids, word):
                    counts[oid] += 1
            for published_at, oid in partial:
                if counts[oid] < len(terms):  # else a full match (not in ranked when partial_only)
                    ranked[oid] = Ranked(counts[oid], published_at, oid)
    return sorted(ranked.values(), reverse=True)


def _decode(cursor: str) -> Ranked:
    values = decode_cursor(cursor)
    try:
        matched, published_at, oid = values
        if not isinstance(matched, int) or isinstance(matched, bool):
            raise TypeError
        return Ranked(matched, as_utc(datetime.fromisoformat(published_at)), ObjectId(oid))
    except (InvalidId, TypeError, ValueError):
        raise FieldError("cursor", "not a cursor returned by this API") from None


def _encode(key: Ranked) -> str:
    return encode_cursor([key.matched, key.published_at.isoformat(), str(key.id)])


async def search_page(
    criteria: Mapping[str, Any], q: str, limit: int, cursor: str | None = None
) -> tuple[list[NewsItem], str | None]:
    """One page of the items matching ``criteria`` and query ``q``, ranked (module docstring):
    full matches a page at a time by keyset, then the ranked partial matches."""
    after = _decode(cursor) if cursor is not None else None
    terms = query_terms(q)
    if not terms:
        return [], None
    items: list[NewsItem] = []
    if after is None or after.matched >= len(terms):
        items = await full_matches(criteria, terms, limit + 1, after)
        if len(items) > limit:
            last = items[limit - 1]
            return items[:limit], _encode(
                Ranked(len(terms), as_utc(last.published_at), ObjectId(last.id))
            )
        after = None  # the partial matches, from the best
    ranked = await ranked_matches(criteria, terms, partial_only=True)
    if after is not None:
        ranked = [key for key in ranked if key < after]
    room = limit - len(items)
    page = ranked[:room]
    documents: dict[Any, NewsItem] = {}
    if page:
        found = await NewsItem.find({"_id": {"$in": [key.id for key in page]}}).to_list()
        documents = {doc.id: doc for doc in found}
    items += [documents[key.id] for key in page if key.id in documents]
    next_cursor = None
    if len(ranked) > room and items:
        last = items[-1]
        matched = page[-1].matched if page else len(terms)
        next_cursor = _encode(Ranked(matched, as_utc(last.published_at), ObjectId(last.id)))
    return items, next_cursor
