"""Thai-aware date parsing for government feeds.

Thai agencies write dates with Buddhist Era (BE) years (CE + 543), Thai month names (full,
abbreviated, colloquial), Thai digits, weekday prefixes ("วันศุกร์ที่ ..."), "พ.ศ." before the
year and times such as "เวลา 10.30 น.". Feeds also put BE years into otherwise ordinary RFC 822
or ISO 8601 dates, which ``feedparser`` then rejects or misreads.

Conventions used throughout this module:

* A 4-digit year >= 2400 is BE and is converted to CE by subtracting 543.
* A 2-digit year is a short BE year when it follows a Thai month ("3 มี.ค. 59" -> 2559 -> 2016);
  after an English month it may be either era (RFC 822 "14" -> 2014, Thai-style "58" -> 2015).
  The century (and era) giving the date nearest to ``now`` is chosen; dates more than a year in
  the future count double, since feeds report past events.
* Naive times are Asia/Bangkok; a date without a time is midnight in Bangkok. An explicit offset
  or zone ("+0700", "+07:00", "GMT", "UTC", "Z", "ICT", RFC 822 US zones) is honoured.
* Numeric dates are day-first ("25/07/2557") unless they start with a 4-digit year (ISO).
* Results are aware datetimes in UTC. Invalid input never raises: the functions return ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BANGKOK",
    "correct_buddhist_era",
    "find_date_in_text",
    "parse_thai_datetime",
    "thai_digits_to_arabic",
    "to_be_year",
    "to_ce_year",
]

try:
    BANGKOK: tzinfo = ZoneInfo("Asia/Bangkok")
except ZoneInfoNotFoundError:  # pragma: no cover - only without system tzdata / tzdata package
    # Thailand has used UTC+7 without daylight saving since 1920.
    BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")

BE_OFFSET = 543
"""Years between the Buddhist Era and the Common Era (BE = CE + 543)."""

BE_THRESHOLD = 2400
"""A 4-digit year at or above this is read as BE (2400 BE = 1857 CE)."""

_MIN_YEAR = 1800  # earliest CE year accepted from parsed text
_FUTURE_YEARS = 100  # parsed dates further ahead than this are rejected as implausible

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_ZERO_WIDTH_RE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")
_SPACE_RE = re.compile(r"\s+")


def thai_digits_to_arabic(text: str) -> str:
    """Replace Thai digits (๐-๙) with ASCII digits; every other character is kept.

    >>> thai_digits_to_arabic("๒๕ ก.ค. ๒๕๕๗")
    '25 ก.ค. 2557'
    """
    return text.translate(_THAI_DIGITS)


def to_be_year(ce_year: int) -> int:
    """Return the Buddhist Era year for a CE year (2014 -> 2557)."""
    return ce_year + BE_OFFSET


def to_ce_year(year: int) -> int:
    """Return the CE year for ``year``, which is read as BE when it is >= 2400 (2557 -> 2014)."""
    return year - BE_OFFSET if year >= BE_THRESHOLD else year


def _aware_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=BANGKOK)
    return now


def _shift_years(dt: datetime, years: int) -> datetime:
    """``dt`` moved by ``years`` calendar years; 29 February becomes 28 February if needed."""
    try:
        return dt.replace(year=dt.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return dt.replace(year=dt.year + years, day=28)


def correct_buddhist_era(dt: datetime, *, now: datetime | None = None) -> datetime:
    """Undo a BE year that was read as CE.

    A BE year read as CE puts a date ~543 years ahead of ``now``. When ``dt`` is more than 100
    years in the future it is moved back 543 years (twice at most, for a year converted to BE
    twice); 29 February becomes 28 February when the corrected year is not a leap year. Any other
    datetime is returned unchanged. ``dt`` may be naive or aware; its tzinfo is kept. ``now``
    defaults to the current time (a naive ``now`` is Bangkok time).
    """
    limit = _aware_now(now).year + _FUTURE_YEARS
    for _ in range(2):
        if dt.year <= limit or dt.year - BE_OFFSET < 1:
            break
        dt = _shift_years(dt, -BE_OFFSET)
    return dt


# --------------------------------------------------------------------------------------------
# Vocabulary

_THAI_LETTER = "\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e"
_NOT_THAI_AFTER = f"(?![{_THAI_LETTER}])"

# month number -> full names (with common misspellings), colloquial short names, abbreviations
_THAI_MONTHS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    1: (("มกราคม", "มกรา"), ("ม", "ค")),
    2: (("กุมภาพันธ์", "กุมภาพันธ", "กุมภา"), ("ก", "พ")),
    3: (("มีนาคม", "มีนา"), ("มี", "ค")),
    4: (("เมษายน", "เมษา"), ("เม", "ย")),
    5: (("พฤษภาคม", "พฤษภา"), ("พ", "ค")),
    6: (("มิถุนายน", "มิถุนา"), ("มิ", "ย")),
    7: (("กรกฎาคม", "กรกฏาคม", "กรกฎา", "กรกฏา"), ("ก", "ค")),
    8: (("สิงหาคม", "สิงหา"), ("ส", "ค")),
    9: (("กันยายน", "กันยา"), ("ก", "ย")),
    10: (("ตุลาคม", "ตุลา"), ("ต", "ค")),
    11: (("พฤศจิกายน", "พฤศจิกา"), ("พ", "ย")),
    12: (("ธันวาคม", "ธันวา"), ("ธ", "ค")),
}

_ENGLISH_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}

# Lookup of a matched month (lower-cased, dots and spaces removed) -> (month, is_abbreviated)
_MONTH_LOOKUP: dict[str, tuple[int, bool]] = {}
_thai_full_alts: list[str] = []
_thai_abbr_alts: list[str] = []
for _num, (_fulls, (_a, _b)) in _THAI_MONTHS.items():
    for _full in _fulls:
        _MONTH_LOOKUP[_full] = (_num, False)
        _thai_full_alts.append(_full)
    _MONTH_LOOKUP[_a + _b] = (_num, True)
    # "มี.ค.", "มี.ค", "มีค", "มี. ค.", "ม.ค." ...
    _thai_abbr_alts.append(rf"{_a}\.?\s?{_b}\.?")
for _name, _num in _ENGLISH_MONTHS.items():
    _MONTH_LOOKUP[_name] = (_num, False)
    _MONTH_LOOKUP[_name[:3]] = (_num, True)
_MONTH_LOOKUP["sept"] = (9, True)

_THAI_MONTH_RE = (
    "(?:"
    + "|".join(sorted(_thai_full_alts, key=len, reverse=True))
    + "|"
    + "|".join(_thai_abbr_alts)
    + ")"
    + _NOT_THAI_AFTER
)
_EN_MONTH_RE = (
    "(?:"
    + "|".join(sorted([*_ENGLISH_MONTHS, "sept"], key=len, reverse=True))
    + "|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)\\.?(?![a-z])"
)

_DAY_RE = r"(?<!\d)(?<!\d[.,:/])(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:\s*[-–]\s*\d{1,2})?"
# A year must not run into a time ("3 มีนาคม 10.30 น.") or a longer number.
_YEAR_RE = r"(?P<year>\d{4}|\d{2})(?!\d)(?![.:]\d)(?!\s*(?:น\.|นาฬิกา))"
# "พ.ศ. 2558", "ปี พ.ศ.2558", "ค.ศ. 2015", "ปี 2558"
_ERA_PREFIX_RE = r"(?:(?:ปี\s*)?(?P<era>พ\.?\s?ศ\.?|ค\.?\s?ศ\.?)\s*|ปี\s*)?"

_DAY_MONTH_YEAR_RE = re.compile(
    _DAY_RE
    + r"\s*[-/]?\s*(?P<month>"
    + _THAI_MONTH_RE
    + "|"
    + _EN_MONTH_RE
    + r")\s*[-/,]?\s*"
    + _ERA_PREFIX_RE
    + _YEAR_RE,
    re.IGNORECASE,
)
_MONTH_DAY_YEAR_RE = re.compile(
    r"(?<![a-z])(?P<month>"
    + _EN_MONTH_RE
    + r")\s*(?P<day>\d{1,2})(?:st|nd|rd|th)?(?!\d)\s*,?\s*"
    + _ERA_PREFIX_RE
    + _YEAR_RE,
    re.IGNORECASE,
)
# ISO 8601 and year-first numeric dates, time and zone included
_ISO_RE = re.compile(
    r"(?<![\d.])(?P<year>\d{4})(?P<sep>[-/])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d)"
    r"(?:[T\s](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?(?![\d:]))?",
    re.IGNORECASE,
)
# day-first numeric dates: 25/07/2557, 25-07-2557, 25.07.2557
_NUMERIC_RE = re.compile(
    r"(?<![\d./-])(?P<day>\d{1,2})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})(?![\d])"
    r"(?!\.\d)"
)

_TIME_RE = re.compile(
    r"\s*(?:(?:,|-|–|@|at|time|ณ|ตั้งแต่|เมื่อ|เวลา)\s*)*"
    r"(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?(?!\d)"
    r"(?:\s*(?P<ampm>[ap]\.?\s?m\b\.?))?|(?P<oclock>\s*(?:น\.|นาฬิกา)))",
    re.IGNORECASE,
)
_ZONE_OFFSETS = {
    "z": 0,
    "ut": 0,
    "utc": 0,
    "gmt": 0,
    "ict": 7 * 60,
    "est": -5 * 60,
    "edt": -4 * 60,
    "cst": -6 * 60,
    "cdt": -5 * 60,
    "mst": -7 * 60,
    "mdt": -6 * 60,
    "pst": -8 * 60,
    "pdt": -7 * 60,
}
_ZONE_RE = re.compile(
    r"\s*\(?\s*(?:"
    r"(?P<name>utc|gmt|ut|ict|z|[ecmp][sd]t)(?![a-z])"
    r"(?:\s*(?P<nsign>[+-])\s*(?P<nhour>\d{1,2})(?::?(?P<nmin>\d{2}))?(?!\d))?"
    r"|(?P<sign>[+-])(?P<hour>\d{2})(?P<colon>:?)(?P<min>\d{2})(?!\d))",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------------------------
# Helpers


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _ZERO_WIDTH_RE.sub("", text)
    text = thai_digits_to_arabic(text)
    return _SPACE_RE.sub(" ", text).strip()


def _month_number(matched: str) -> tuple[int, bool] | None:
    key = re.sub(r"[.\s]", "", matched).lower()
    return _MONTH_LOOKUP.get(key)


def _distance_score(candidate: date, now: date) -> float:
    """How far ``candidate`` is from ``now``, with dates > 1 year ahead counting double."""
    delta = (candidate - now).days
    if delta > 366:
        return 2.0 * delta
    return float(abs(delta))


def _resolve_year(
    year_text: str, month: int, day: int, *, era: str | None, thai_month: bool, now: datetime
) -> int | None:
    """CE year for a matched year string, or None."""
    value = int(year_text)
    be_marked = era is not None and era.startswith("พ")
    if len(year_text) == 4:
        year = value - BE_OFFSET if be_marked else to_ce_year(value)
        return year
    # 2-digit year: short BE year after a Thai month or "พ.ศ."; either era after an English one
    today = now.astimezone(BANGKOK).date()
    be_candidates = [be - BE_OFFSET for be in (2400 + value, 2500 + value, 2600 + value)]
    candidates = be_candidates
    if not thai_month and not be_marked:
        candidates = [*be_candidates, 1900 + value, 2000 + value, 2100 + value]
    best: tuple[float, int] | None = None
    for year in candidates:
        try:
            score = _distance_score(date(year, month, min(day, 28)), today)
        except ValueError:
            continue
        if abs(year - today.year) > _FUTURE_YEARS:
            continue
        if best is None or score < best[0]:
            best = (score, year)
    return None if best is None else best[1]


def _zone_at(text: str, pos: int, *, had_seconds: bool) -> tuple[tzinfo | None, int]:
    """Parse an explicit zone right after ``pos``; returns (tzinfo or None, end position)."""
    m = _ZONE_RE.match(text, pos)
    if not m:
        return None, pos
    if m.group("name"):
        minutes = _ZONE_OFFSETS[m.group("name").lower()]
        if m.group("nsign"):
            extra = int(m.group("nhour")) * 60 + int(m.group("nmin") or 0)
            minutes += extra if m.group("nsign") == "+" else -extra
    else:
        # "10:00-12:00" is a time range, not a zone: a bare "-" offset needs seconds or 4 digits
        if m.group("sign") == "-" and m.group("colon") and not had_seconds:
            return None, pos
        minutes = int(m.group("hour")) * 60 + int(m.group("min"))
        if m.group("sign") == "-":
            minutes = -minutes
    if abs(minutes) > 14 * 60 or (m.group("min") and int(m.group("min")) > 59):
        return None, pos
    return timezone(timedelta(minutes=minutes)), m.end()


def _iso_zone(text: str) -> tzinfo | None:
    """tzinfo for an ISO 8601 designator: "Z", "+07", "+0700" or "+07:00" (None if invalid)."""
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    if minutes > 14 * 60 or int(digits[2:] or 0) > 59:
        return None
    return timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))


def _time_at(text: str, pos: int) -> tuple[tuple[int, int, int] | None, tzinfo | None]:
    """Parse a time (and zone) right after a date ending at ``pos``."""
    m = _TIME_RE.match(text, pos)
    if not m:
        return None, None
    hour = int(m.group("hour"))
    minute = int(m.group("minute") or 0)
    second = int(m.group("second") or 0)
    if m.group("ampm"):
        if not 1 <= hour <= 12:
            return None, None
        pm = m.group("ampm").lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    if hour > 23 or minute > 59 or second > 60:
        return None, None
    second = min(second, 59)  # leap second
    zone, _ = _zone_at(text, m.end(), had_seconds=m.group("second") is not None)
    return (hour, minute, second), zone


def _build(
    year: int | None,
    month: int,
    day: int,
    clock: tuple[int, int, int] | None,
    zone: tzinfo | None,
    now: datetime,
) -> datetime | None:
    if year is None or not _MIN_YEAR <= year <= now.year + _FUTURE_YEARS:
        return None
    hour, minute, second = clock or (0, 0, 0)
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=zone or BANGKOK)
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _from_named_month(
    m: re.Match[str], text: str, now: datetime, *, strict: bool
) -> datetime | None:
    found = _month_number(m.group("month"))
    if found is None:
        return None
    month, abbreviated = found
    thai_month = bool(re.match(f"[{_THAI_LETTER}]", m.group("month")))
    year_text = m.group("year")
    # In free text, "3 มีนาคม 15 ราย" is not a date: 2-digit years need an abbreviated month.
    if strict and len(year_text) == 2 and not abbreviated and m.group("era") is None:
        return None
    day = int(m.group("day"))
    year = _resolve_year(year_text, month, day, era=m.group("era"), thai_month=thai_month, now=now)
    clock, zone = _time_at(text, m.end())
    return _build(year, month, day, clock, zone, now)


def _from_iso(m: re.Match[str], text: str, now: datetime) -> datetime | None:
    year = to_ce_year(int(m.group("year")))
    month, day = int(m.group("month")), int(m.group("day"))
    if m.group("hour") is None:
        clock, zone = _time_at(text, m.end())
        return _build(year, month, day, clock, zone, now)
    hour, minute = int(m.group("hour")), int(m.group("minute"))
    second = min(int(m.group("second") or 0), 59)
    if hour > 23 or minute > 59:
        return None
    offset = _iso_zone(m.group("zone")) if m.group("zone") else None
    return _build(year, month, day, (hour, minute, second), offset, now)


def _from_numeric(m: re.Match[str], text: str, now: datetime) -> datetime | None:
    year = to_ce_year(int(m.group("year")))
    clock, zone = _time_at(text, m.end())
    return _build(year, int(m.group("month")), int(m.group("day")), clock, zone, now)


def _scan(text: str, now: datetime, *, strict: bool) -> datetime | None:
    """The first valid date expression in cleaned ``text``."""
    candidates: list[tuple[int, int, re.Match[str]]] = []
    for kind, pattern in enumerate(
        (_DAY_MONTH_YEAR_RE, _MONTH_DAY_YEAR_RE, _ISO_RE, _NUMERIC_RE),
    ):
        candidates.extend((m.start(), kind, m) for m in pattern.finditer(text))
    candidates.sort(key=lambda c: (c[0], c[1]))
    for _, kind, m in candidates:
        if kind in (0, 1):
            result = _from_named_month(m, text, now, strict=strict)
        elif kind == 2:
            result = _from_iso(m, text, now)
        else:
            result = _from_numeric(m, text, now)
        if result is not None:
            return result
    return None


# --------------------------------------------------------------------------------------------
# Public API


def parse_thai_datetime(text: str, *, now: datetime | None = None) -> datetime | None:
    """Parse one date string (Thai, English, RFC 822 or ISO 8601; BE or CE years).

    Meant for a feed's ``pubDate``/``updated`` value that ``feedparser`` could not parse, or for
    a Thai-style date line. Examples::

        "Tue, 25 Jul 2557 10:00:00 +0700"          -> 2014-07-25 03:00 UTC
        "วันศุกร์ที่ ๒๕ กรกฎาคม ๒๕๕๗ เวลา ๑๐.๓๐ น."   -> 2014-07-25 03:30 UTC
        "3 มี.ค. 59"                                -> 2016-03-02 17:00 UTC
        "2558-05-20T10:00:00+07:00"                 -> 2015-05-20 03:00 UTC

    Returns an aware datetime in UTC, or ``None`` when the string holds no valid date with day,
    month and year (also for garbage, impossible dates such as 31 April, and years more than 100
    years ahead of ``now``). Naive values are Asia/Bangkok; a date alone is midnight in Bangkok.
    ``now`` (default: the current time) chooses the century of 2-digit years.
    """
    if not isinstance(text, str):
        return None
    try:
        cleaned = _clean(text)
        if not cleaned:
            return None
        return _scan(cleaned, _aware_now(now), strict=False)
    except (ValueError, OverflowError, TypeError):  # pragma: no cover - defensive
        return None


def find_date_in_text(text: str, *, now: datetime | None = None) -> datetime | None:
    """Find the first date expression (day, month and year) in free text.

    ``text`` is an entry's title, summary or content (plain text or HTML-stripped). Thai and
    English month names, abbreviations, Thai digits, BE years and numeric dates are recognised;
    a time right after the date ("... 2558 เวลา 10.30 น.") is used. Expressions that do not form
    a valid date are skipped. In free text a 2-digit year is accepted only after an abbreviated
    month ("3 มี.ค. 59") or "พ.ศ.", so "วันที่ 3 มีนาคม 15 ราย" is not read as a date.
    Returns an aware UTC datetime (see :func:`parse_thai_datetime`) or ``None``.
    """
    if not isinstance(text, str):
        return None
    try:
        cleaned = _clean(text)
        if not cleaned:
            return None
        return _scan(cleaned, _aware_now(now), strict=True)
    except (ValueError, OverflowError, TypeError):  # pragma: no cover - defensive
        return None
