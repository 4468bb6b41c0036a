"""Province gazetteer: tag Thai and English news text with the provinces it mentions.

:func:`find_provinces` returns one :class:`ProvinceMention` per province, in order of first
appearance. The text is normalised first (Unicode NFC, then :func:`pythainlp.util.normalize`,
and ``"กรุงเทพ ฯ"`` → ``"กรุงเทพฯ"``); ``matched`` is the matching text of the normalised input.

Thai is written without spaces between words, so a plain substring search would tag Loei
(เลย) in ไม่มีปัญหาเลย, Tak (ตาก) in ตากอากาศ and Phrae (แพร่) in เผยแพร่. The rules, which
favour precision (a wrong province means a push notification to the wrong people):

1. **Prefixed forms are always accepted**: ``จังหวัดX``, ``จ.X`` and ``จ. X`` (also covering
   ``ผวจ.X``), ``อำเภอเมืองX`` / ``อ.เมืองX`` (the capital district), where X is the full Thai
   name or a Thai alias from the reference data (กรุงเทพฯ, โคราช, อุบลฯ, ...). X must still end
   on a word boundary (so จังหวัดแพร่กระจาย, "the province's ... spread", is not Phrae), and
   an ambiguous X after a quantifier (ทุกจังหวัดเลย, ไปต่างจังหวัดเลย) is not a mention.
2. **Bare Thai names and aliases** are accepted only as whole words: the enclosing run of
   non-space text is segmented with PyThaiNLP ``newmm`` over the default dictionary plus every
   province form, and the match must start and end on token boundaries; a Thai token glued to
   it must be a dictionary word (otherwise the name is part of an unknown proper noun, such as
   a person's name). Bare names are rejected after a street prefix (``ถนนพิษณุโลก``, ``ถ.`` /
   ``ซอย`` / ``ซ.``: Government House is on Phitsanulok Road in Bangkok) and after a personal
   title (``นายสุรินทร์``, ``นาง``, ``นางสาว``, ``น.ส.``, ``ดร.``, ``คุณ`` ...).
3. **Ambiguous names need a prefix** (:data:`AMBIGUOUS_TH`): เลย ("at all"), ตาก ("to dry";
   ตากใบ district), แพร่ ("to spread"), น่าน (น่านน้ำ, น่านฟ้า, the Nan river), กระบี่
   ("sword"), ชุมพร (Prince Chumphon; a given name), สุรินทร์ (a given name; the Surin
   Islands are in Phang Nga), พิจิตร (a given name), ชัยภูมิ ("strategic position"), สตูล
   ("stool"), and the short forms อุบล, อุดร, ประจวบ (ประจวบ = "to coincide"). The one
   exception is a list: an ambiguous name that directly follows an accepted province
   (separated only by spaces, commas, hyphens, slashes, และ or หรือ) and is itself followed by
   a separator or the end, as in ``จังหวัดตาก น่าน และแพร่`` or ``จ.แพร่-น่าน``.
4. **Institutions**: an institution named after a province, with the name as its own word
   (มหาวิทยาลัยเชียงใหม่, โรงพยาบาลขอนแก่น, ศาลาว่าการกรุงเทพมหานคร, ผว.กทม., Chiang Mai
   University), *is* a mention: such bodies are located in and serve that province, so
   tagging them gives the right audience. (PyThaiNLP's dictionary lists some of them as single
   words; those entries are dropped from the segmentation dictionary so that the province name
   becomes its own token.) The exceptions are names in which the province name is fused into a
   longer proper name, or national bodies that merely carry a province name; they are listed
   in :data:`NOT_MENTIONS_TH` / :data:`NOT_MENTIONS_EN` and never tag on their own: สุโขทัย-
   ธรรมาธิราช (STOU, which is in Nonthaburi), สงขลานครินทร์ (PSU, five campuses), ธนาคาร-
   กรุงเทพ / Bangkok Bank, กรุงเทพธุรกิจ / Bangkok Post, กรุงศรีอยุธยา / ศรีอยุธยา (the old
   kingdom, Krungsri bank, Si Ayutthaya Road), หมู่เกาะอ่างทอง (in Surat Thani), ... An
   explicit ``จังหวัดX`` next to them is still a mention.
5. **English** names and aliases (Chon Buri, Chonburi, Korat, Phang Nga, ...) match as whole
   words, case-sensitively (plus an ALL-CAPS form), so "Tak" never matches "take" and
   "Nan" never matches "nan". ``X Province`` is accepted too. The English names that are also
   common words or given names (:data:`AMBIGUOUS_EN`: Nan, Tak, Surin) need "Province"
   ("Nan Province"); ``X Road`` / ``X Rd`` is a street, not a mention.

Deliberately not handled: district and sub-district names (Hat Yai, Pattaya, Mae Sot), which
would need a much larger gazetteer; and relevance: a province mentioned in passing ("after the
roadshow in Chon Buri last month") is still a mention.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass

from pythainlp.corpus import thai_words
from pythainlp.tokenize import Trie, word_tokenize
from pythainlp.util import normalize as thai_normalize

from gnews.geo.provinces import all_provinces

__all__ = [
    "AMBIGUOUS_EN",
    "AMBIGUOUS_TH",
    "NOT_MENTIONS_EN",
    "NOT_MENTIONS_TH",
    "ProvinceMention",
    "find_provinces",
]

AMBIGUOUS_TH: frozenset[str] = frozenset(
    {
        "เลย",  # "at all", "so"; จำเลย, ละเลย
        "ตาก",  # "to dry": ตากแดด, ตากอากาศ; ตากใบ (a district of Narathiwat); King Taksin
        "แพร่",  # "to spread/broadcast": แพร่ระบาด, เผยแพร่, แพร่ภาพ
        "น่าน",  # น่านน้ำ "territorial waters", น่านฟ้า "airspace", แม่น้ำน่าน
        "กระบี่",  # "sword": กระบี่กระบอง
        "ชุมพร",  # Prince Chumphon (กรมหลวงชุมพรฯ), a given name
        "สุรินทร์",  # a given name; หมู่เกาะสุรินทร์ is in Phang Nga
        "พิจิตร",  # a given name
        "ชัยภูมิ",  # "strategic position"
        "สตูล",  # "stool" (เก้าอี้สตูล)
        "อุบล",  # short form; also "lotus", a given name
        "อุดร",  # short form; also "north", a given name
        "ประจวบ",  # short form; also "to coincide" (ประจวบกับ)
    }
)
"""Thai names/aliases that are accepted only with a prefix (or in a list, see rule 3)."""

AMBIGUOUS_EN: frozenset[str] = frozenset({"Nan", "Tak", "Surin"})
"""English names that are accepted only as "X Province"."""

NOT_MENTIONS_TH: tuple[str, ...] = (
    "สุโขทัยธรรมาธิราช",  # Sukhothai Thammathirat Open University (Nonthaburi)
    "สงขลานครินทร์",  # Prince of Songkla University (campuses in five provinces)
    "นราธิวาสราชนครินทร์",  # royal title of Princess Galyani Vadhana
    "ธนาคารกรุงเทพ",  # Bangkok Bank
    "กรุงเทพธุรกิจ",  # Krungthep Turakij newspaper
    "กรุงเทพประกันภัย",  # Bangkok Insurance
    "กรุงศรีอยุธยา",  # the historical kingdom; Bank of Ayudhya (Krungsri)
    "ศรีอยุธยา",  # ถนนศรีอยุธยา (Bangkok)
    "ศรีตรัง",  # a tree; Sri Trang Agro-Industry
    "ฉิ่งตรัง",  # a classical Thai song
    "หมู่เกาะอ่างทอง",  # Mu Ko Ang Thong marine park (Surat Thani)
    "หมู่เกาะสุรินทร์",  # Mu Ko Surin (Phang Nga)
    "ตากใบ",  # Tak Bai district (Narathiwat)
    "ตากสิน",  # King Taksin; Taksin hospital/road (Bangkok)
    "แม่น้ำน่าน",  # the Nan river (flows through Phitsanulok, Phichit, Nakhon Sawan)
)
"""Thai phrases containing a province name that are not, on their own, a mention of it."""

NOT_MENTIONS_EN: tuple[str, ...] = (
    "Bangkok Bank",
    "Bangkok Post",
    "Bangkok Airways",
    "Bangkok Insurance",
    "Bangkok Dusit Medical",
    "Bank of Ayudhya",
    "Sukhothai Thammathirat",
    "Prince of Songkla",
    "Tak Bai",
    "Surin Islands",
    "Ang Thong Islands",
    "Mu Ko Ang Thong",
    "Nan River",
)
"""English phrases containing a province name that are not, on their own, a mention of it."""

_PREFIX_TH = r"(?:ผวจ\.|จังหวัด|จ\.|อำเภอ\s*เมือง|อ\.\s*เมือง)"
# A quantifier before จังหวัด makes "จังหวัด" the common noun: ทุกจังหวัดเลย, ต่างจังหวัดเลย.
_QUANTIFIER_BEFORE_PREFIX = re.compile(r"(?:ทุก|หลาย|บาง|ต่าง|แต่ละ|ไม่มี|อีก)\s*$")
_STREET_TH = r"(?:ถนน|ถ\.|ซอย|ซ\.)"
_TITLE_TH = r"(?:นางสาว|นาง|นาย|น\.ส\.|ด\.ช\.|ด\.ญ\.|เด็กชาย|เด็กหญิง|ดร\.|(?<!ขอบ)(?<!บุญ)คุณ)"
# Royal ranks: many princes' titles contain a province name (กรมพระนครสวรรค์วรพินิต,
# กรมหลวงสงขลานครินทร์, กรมหลวงนราธิวาสราชนครินทร์, กรมพระจันทบุรีนฤนาถ).
_ROYAL_RANK_TH = r"(?:กรม(?:พระยา|พระ|หลวง|ขุน|หมื่น))"
# What may separate the names of a list (rule 3), and what may follow a listed ambiguous name.
_LIST_SEPARATOR = re.compile(r"(?:[\s,/\-–]|และ|หรือ)+")
_LIST_FOLLOWER = re.compile(r"(?:$|[\s,.;:!?)\]/\-–\"”]|และ|หรือ|ฯลฯ)")
_THAI_LETTER = re.compile("[\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e]")
_SPACE_BEFORE_PAIYANNOI = re.compile(r"(?<=[\u0e01-\u0e4e])\s+ฯ(?!ลฯ)")
_RUN = re.compile(r"\S+")
_UPPER = re.compile("[A-Z]")


@dataclass(frozen=True, slots=True)
class ProvinceMention:
    """A province found in a text: its code and the text that matched."""

    code: str
    matched: str  # e.g. "จ.นครสวรรค์", "กทม.", "Nakhon Sawan"


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    th_code: dict[str, str]  # Thai form -> province code
    en_code: dict[str, str]  # English form (and its ALL-CAPS variant) -> province code
    th_bare: re.Pattern[str]  # every Thai form, overlapping search
    th_prefixed: re.Pattern[str]
    th_masks: re.Pattern[str]  # street names, people, NOT_MENTIONS_TH
    en_names: re.Pattern[str]
    en_masks: re.Pattern[str]  # "X Road", NOT_MENTIONS_EN
    trie: Trie


def _alternation(forms: list[str]) -> str:
    return "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f)))


def _en_pattern(form: str) -> str:
    return r"\s+".join(re.escape(word) for word in form.split())


@functools.cache
def _gazetteer() -> _Gazetteer:
    th_code: dict[str, str] = {}
    en_code: dict[str, str] = {}
    for p in all_provinces():
        for form in (p.name_th, *p.aliases_th):
            th_code[form] = p.code
        for form in (p.name_en, *p.aliases_en):
            en_code[form] = p.code
            en_code[form.upper()] = p.code
    th_forms = _alternation(list(th_code))
    unambiguous = tuple(f for f in th_code if f not in AMBIGUOUS_TH)

    # Dictionary words that end with a province name (มหาวิทยาลัยเชียงใหม่, ผว.กทม.) are dropped
    # so that the name segments as its own word (rule 4); NOT_MENTIONS_TH covers the rest.
    words = {w for w in thai_words() if not w.endswith(unambiguous) or w in th_code}
    words.update(th_code)
    words.update(NOT_MENTIONS_TH)

    en_forms = [f for f in en_code if f not in AMBIGUOUS_EN and f.upper() not in AMBIGUOUS_EN]
    en_alt = "|".join(_en_pattern(f) for f in sorted(en_code, key=lambda f: (-len(f), f)))
    return _Gazetteer(
        th_code=th_code,
        en_code=en_code,
        th_bare=re.compile(f"(?=({th_forms}))"),
        th_prefixed=re.compile(rf"{_PREFIX_TH}\s*({th_forms})"),
        th_masks=re.compile(
            rf"{_STREET_TH}\s*(?:{th_forms})(?:\s*-\s*(?:{th_forms}))*"
            rf"|(?:{_TITLE_TH}|{_ROYAL_RANK_TH})\s*(?:{th_forms})"
            rf"|{_alternation(list(NOT_MENTIONS_TH))}"
        ),
        en_names=re.compile(
            rf"(?<![A-Za-z0-9])({en_alt})(\s+(?:Province|province|PROVINCE))?(?![A-Za-z0-9])"
        ),
        en_masks=re.compile(
            rf"(?<![A-Za-z0-9])(?:{'|'.join(_en_pattern(f) for f in en_forms)})"
            rf"\s+(?:Road|Rd|ROAD)(?![A-Za-z0-9])"
            rf"|{'|'.join(_en_pattern(f) for f in NOT_MENTIONS_EN)}"
        ),
        trie=Trie(words),
    )


def _normalise(text: str) -> str:
    text = thai_normalize(unicodedata.normalize("NFC", text))
    return _SPACE_BEFORE_PAIYANNOI.sub("ฯ", text)


@functools.lru_cache(maxsize=16384)
def _segment(run: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Token start offsets (plus the end offset) and tokens of a run of non-space text."""
    tokens = tuple(word_tokenize(run, custom_dict=_gazetteer().trie, engine="newmm"))
    offsets = [0]
    for token in tokens:
        offsets.append(offsets[-1] + len(token))
    return tuple(offsets), tokens


class _Text:
    """A normalised text with lazily computed runs of non-space characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._runs: list[tuple[int, int]] | None = None
        self._run_starts: list[int] = []

    def _run_at(self, pos: int) -> tuple[int, int]:
        if self._runs is None:
            self._runs = [m.span() for m in _RUN.finditer(self.text)]
            self._run_starts = [s for s, _ in self._runs]
        return self._runs[bisect.bisect_right(self._run_starts, pos) - 1]

    def is_word(self, start: int, end: int, *, check_start: bool = True) -> bool:
        """Whether text[start:end] starts and ends on word boundaries, with known neighbours."""
        run_start, run_end = self._run_at(start)
        offsets, tokens = _segment(self.text[run_start:run_end])
        trie = _gazetteer().trie
        s, e = start - run_start, end - run_start
        if e not in offsets:
            return False
        if check_start:
            if s not in offsets:
                return False
            i = offsets.index(s)
            if i > 0 and not _is_known(tokens[i - 1], trie):
                return False
        j = offsets.index(e)
        return j >= len(tokens) or _is_known(tokens[j], trie)


def _is_known(token: str, trie: Trie) -> bool:
    return token in trie or not _THAI_LETTER.search(token)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _thai_mentions(t: _Text, gaz: _Gazetteer) -> list[tuple[int, str, str]]:
    text = t.text
    found: list[tuple[int, str, str]] = []
    taken: list[tuple[int, int]] = []  # spans already accepted
    masks = [m.span() for m in gaz.th_masks.finditer(text)]

    # (start, end, name_start, prefixed) for every candidate, in text order.
    candidates: list[tuple[int, int, int, bool]] = []
    for m in gaz.th_prefixed.finditer(text):
        candidates.append((m.start(), m.end(), m.start(1), True))
    for m in gaz.th_bare.finditer(text):
        candidates.append((m.start(1), m.end(1), m.start(1), False))
    candidates.sort(key=lambda c: (c[0], -c[1]))

    chain_end = -1  # end of the last accepted Thai mention, for lists (rule 3)
    for start, end, name_start, prefixed in candidates:
        if _overlaps(taken, start, end):
            continue
        name = text[name_start:end]
        ambiguous = name in AMBIGUOUS_TH
        if prefixed:
            if ambiguous and _QUANTIFIER_BEFORE_PREFIX.search(text, max(0, start - 12), start):
                continue
            if not t.is_word(name_start, end, check_start=False):
                continue
        else:
            if _inside(masks, start, end):
                continue
            if ambiguous:
                in_list = (
                    chain_end >= 0
                    and _LIST_SEPARATOR.fullmatch(text, chain_end, start) is not None
                    and _LIST_FOLLOWER.match(text, end) is not None
                )
                if not in_list:
                    continue
            if not t.is_word(start, end):
                continue
        taken.append((start, end))
        found.append((start, gaz.th_code[name], text[start:end]))
        chain_end = end
    return found


def _english_mentions(text: str, gaz: _Gazetteer) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []
    masks: list[tuple[int, int]] | None = None
    for m in gaz.en_names.finditer(text):
        name = " ".join(m.group(1).split())
        if m.group(2) is None:
            if name in AMBIGUOUS_EN or name.title() in AMBIGUOUS_EN:
                continue
            if masks is None:
                masks = [mm.span() for mm in gaz.en_masks.finditer(text)]
            if _inside(masks, m.start(), m.end()):
                continue
        found.append((m.start(), gaz.en_code[name], m.group(0)))
    return found


def find_provinces(text: str) -> list[ProvinceMention]:
    """Return the provinces mentioned in a Thai and/or English text.

    One :class:`ProvinceMention` per province (its first match), in order of first appearance.
    See the module docstring for the rules.
    """
    gaz = _gazetteer()
    normalised = _normalise(text)
    hits = _thai_mentions(_Text(normalised), gaz)
    if _UPPER.search(normalised):
        hits += _english_mentions(normalised, gaz)
    hits.sort(key=lambda h: h[0])
    seen: set[str] = set()
    mentions: list[ProvinceMention] = []
    for _, code, matched in hits:
        if code not in seen:
            seen.add(code)
            mentions.append(ProvinceMention(code, matched))
    return mentions
