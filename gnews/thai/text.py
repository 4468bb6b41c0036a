"""Search terms for Thai-aware search.

MongoDB's text index cannot segment Thai, so documents (news items, app listings) store a list of
search terms computed here, queries are turned into terms the same way, and a document matches a
query when it holds *all* the query's terms.

Contract: if a document's normalised text contains a query's normalised text, every term of
``query_terms(query)`` is in ``index_terms(document)``. It holds whenever the occurrence does not
cut a Thai character cluster (e.g. it does not start at a vowel or tone mark), Latin words and
numbers are whole, and the document has not hit :data:`MAX_TERMS`.

Why word segmentation alone is not enough: PyThaiNLP's ``newmm`` segments compounds depending on
context ("สำนักงานประกันสังคมแจ้งว่า" -> ["สำนักงานประกันสังคม", "แจ้ง", "ว่า"] but
"ประกันสังคม" -> ["ประกันสังคม"]), so a query's tokens need not be tokens of the document.
The design therefore does not segment documents at all:

* Thai text is cut into *clusters* by a context-free rule: a cluster boundary may not come
  before a following vowel or combining mark (ะ ั า ำ ิ ี ึ ื ุ ู ฺ ๅ ็ ่ ้ ๊ ๋ ์ ํ ๎) nor after a
  leading vowel (เ แ โ ใ ไ). Because the rule only looks at two adjacent characters, a query
  has the same boundaries as the same text inside a document.
* A document is indexed with every dictionary word (PyThaiNLP's word list) that starts and ends
  on cluster boundaries anywhere in its Thai text, plus every single cluster. So
  "สำนักงานประกันสังคม" gives "สำนัก", "สำนักงาน", "งาน", "ประกัน", "ประกันสังคม", "สังคม", ...
* A query is segmented with ``newmm`` (maximal matching, so the coarsest dictionary words);
  dictionary tokens are kept whole, and out-of-dictionary pieces (names, typos) are replaced by
  their clusters. Either kind of term is in the index of any document containing the query.
* Latin words are casefolded; numbers are kept ("3,108" -> "3108"; "20.05.2558" is also indexed
  as "20", "05", "2558", "20.05", ...). Thai digits become ASCII digits; dots after Thai letters
  are dropped ("พ.ศ." -> "พศ", as in the dictionary), and ๆ / ฯ separate words.
* Stopwords are never dropped from documents; they are dropped from queries that have other
  terms (dropping query terms only widens the match).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from pythainlp.corpus import thai_stopwords, thai_words
from pythainlp.tokenize.newmm import segment as newmm_segment
from pythainlp.util import Trie
from pythainlp.util import normalize as thai_normalize

__all__ = ["MAX_QUERY_TERMS", "MAX_TERMS", "index_terms", "normalize_text", "query_terms"]

MAX_TERMS = 2000
"""Most terms stored for one document; text beyond the point where the cap is hit is not indexed."""

MAX_QUERY_TERMS = 32
"""Most terms looked up for one query (extra terms are dropped, which only widens the match)."""

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_ZERO_WIDTH_RE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACE_RE = re.compile(r"\s+")

# Thai letters, vowels and marks; excludes ฯ (paiyannoi), ฿, ๆ (mai yamok), ๏ ๚ ๛ and digits.
_THAI = "\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e"
_LEADING = frozenset("เแโใไ")
# Characters that cannot begin a cluster: following vowels and all combining marks.
_NON_INITIAL = frozenset(
    "\u0e30\u0e31\u0e32\u0e33\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a\u0e45"
    "\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e"
)
_THAI_DOT_RE = re.compile(f"(?<=[{_THAI}])\\.")
_THAI_WORD_RE = re.compile(f"^[{_THAI}]+$")
_TOKEN_RE = re.compile(
    f"(?P<thai>[{_THAI}]+)"
    r"|(?P<num>\d+(?:[.,:/]\d+)*)"
    r"|(?P<word>[^\W\d_\u0e00-\u0e7f]+)"
)
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_NUMBER_PART_RE = re.compile(r"[.,:/]")
_MAX_NUMBER_PARTS = 6

_ENGLISH_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from",
        "in", "into", "is", "it", "of", "on", "or", "the", "to", "with",
    }
)  # fmt: skip


def normalize_text(text: str) -> str:
    """Normalise text for search.

    NFC; zero-width characters removed; Thai normalisation (``pythainlp.util.normalize``:
    duplicate/misordered vowels and tone marks); Thai digits to ASCII; casefolded; whitespace
    collapsed to single spaces and stripped. HTML is not stripped: callers pass plain text.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _ZERO_WIDTH_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text)
    text = thai_normalize(text)
    text = text.translate(_THAI_DIGITS).casefold()
    return _SPACE_RE.sub(" ", text).strip()


def _search_form(word: str) -> str:
    """A dictionary word or text as the term extractor sees it (dots after Thai dropped)."""
    return _THAI_DOT_RE.sub("", word)


@functools.cache
def _dictionary() -> Trie:
    """PyThaiNLP's word list, restricted to words made only of Thai letters (after dot removal)."""
    words: set[str] = set()
    for word in thai_words():
        form = _search_form(unicodedata.normalize("NFC", word))
        if _THAI_WORD_RE.match(form):
            words.add(form)
    return Trie(words)


@functools.cache
def _stopwords() -> frozenset[str]:
    thai = {_search_form(w) for w in thai_stopwords()}
    return frozenset(thai) | _ENGLISH_STOPWORDS


def _boundaries(run: str) -> bytearray:
    """``b[i] == 1`` when a cluster boundary may fall before ``run[i]`` (0 and len(run) always)."""
    n = len(run)
    b = bytearray(n + 1)
    b[0] = b[n] = 1
    for i in range(1, n):
        if run[i] not in _NON_INITIAL and run[i - 1] not in _LEADING:
            b[i] = 1
    return b


def _clusters(run: str, bounds: bytearray, start: int = 0, end: int | None = None) -> list[str]:
    """Clusters of ``run`` overlapping ``run[start:end]``."""
    end = len(run) if end is None else end
    while start > 0 and not bounds[start]:
        start -= 1
    while end < len(run) and not bounds[end]:
        end += 1
    out: list[str] = []
    i = start
    for j in range(start + 1, end + 1):
        if bounds[j]:
            out.append(run[i:j])
            i = j
    return out


def _number_canonical(number: str) -> str:
    if _THOUSANDS_RE.fullmatch(number):
        return number.replace(",", "")
    return number


def _number_index_terms(number: str) -> Iterable[str]:
    yield _number_canonical(number)
    parts = _NUMBER_PART_RE.split(number)
    if len(parts) == 1:
        return
    seps = _NUMBER_PART_RE.findall(number)
    if len(parts) > _MAX_NUMBER_PARTS:
        yield from parts
        return
    for i in range(len(parts)):
        for j in range(i + 1, len(parts) + 1):
            piece = parts[i] + "".join(
                s + p for s, p in zip(seps[i : j - 1], parts[i + 1 : j], strict=True)
            )
            yield _number_canonical(piece)


def _thai_index_terms(run: str, trie: Trie) -> Iterable[str]:
    bounds = _boundaries(run)
    start = 0
    for i in range(1, len(run) + 1):
        if not bounds[i]:
            continue
        yield run[start:i]  # the cluster
        for word in trie.prefixes(run, start):
            if bounds[start + len(word)]:
                yield word
        start = i


def _thai_query_terms(run: str, trie: Trie) -> list[str]:
    bounds = _boundaries(run)
    tokens = newmm_segment(run, custom_dict=trie)
    if "".join(tokens) != run:  # defensive: never expected
        return _clusters(run, bounds)
    terms: list[str] = []
    pos = 0
    for token in tokens:
        end = pos + len(token)
        if token in trie and bounds[pos] and bounds[end]:
            terms.append(token)
        else:
            terms.extend(_clusters(run, bounds, pos, end))
        pos = end
    return terms


def _tokens(text: str) -> Iterable[tuple[str, str]]:
    for m in _TOKEN_RE.finditer(_search_form(normalize_text(text))):
        yield m.lastgroup or "word", m.group()


def index_terms(text: str) -> list[str]:
    """Terms to store for a document, deduplicated, in order of first appearance.

    Holds every dictionary word and every character cluster found on cluster boundaries in the
    Thai text, casefolded Latin words and numbers (with their dotted/slashed parts), capped at
    :data:`MAX_TERMS`.
    """
    if not text:
        return []
    trie = _dictionary()
    seen: dict[str, None] = {}
    for kind, value in _tokens(text):
        if kind == "thai":
            terms = _thai_index_terms(value, trie)
        elif kind == "num":
            terms = _number_index_terms(value)
        else:
            terms = (value,)
        for term in terms:
            if term not in seen:
                seen[term] = None
                if len(seen) >= MAX_TERMS:
                    return list(seen)
    return list(seen)


def query_terms(query: str) -> list[str]:
    """Terms to look up for a user query (all must match), deduplicated, in query order.

    Thai is segmented into the coarsest dictionary words (out-of-dictionary pieces become
    character clusters); Latin words are casefolded; numbers are kept whole ("3,108" -> "3108").
    A stopword typed as a word of its own ("ข่าว ของ กระทรวง") is dropped when other terms
    remain; one that is part of a longer run of Thai ("ทางรัฐ", "ยืนยันตัวตน": PyThaiNLP lists
    ทาง and ยืนยัน as stopwords) is kept, or the query would lose the words that make it precise.
    At most :data:`MAX_QUERY_TERMS` are returned.
    """
    if not query:
        return []
    trie = _dictionary()
    terms: dict[str, None] = {}
    standalone: set[str] = set()  # terms that were a whole run of the query on their own
    for kind, value in _tokens(query):
        if kind == "thai":
            run_terms = _thai_query_terms(value, trie)
            if len(run_terms) == 1:
                standalone.update(run_terms)
            for term in run_terms:
                terms.setdefault(term)
        elif kind == "num":
            terms.setdefault(_number_canonical(value))
        else:
            standalone.add(value)
            terms.setdefault(value)
    result = list(terms)
    stopwords = _stopwords()
    content = [t for t in result if not (t in stopwords and t in standalone)]
    if content:
        result = content
    return result[:MAX_QUERY_TERMS]
