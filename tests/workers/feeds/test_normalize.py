"""parse_feed: entries, keys, dates (BE years, Thai dates, missing/future dates), errors."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.workers.feeds.conftest import FIXTURES, NOW, fixture_bytes
from workers.feeds.normalize import (
    SUMMARY_LIMIT,
    FeedEntry,
    FeedParseError,
    ParsedFeed,
    parse_feed,
    trim_text,
)
from workers.feeds.sanitize import ALLOWED_TAGS

BANGKOK = timezone(timedelta(hours=7))
FETCHED = datetime(2024, 6, 1, 4, 55, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def bangkok_date(dt: datetime) -> str:
    return dt.astimezone(BANGKOK).date().isoformat()


def parse(name: str, **kwargs: object) -> ParsedFeed:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("fetched_at", FETCHED)
    return parse_feed(fixture_bytes(name), **kwargs)  # type: ignore[arg-type]


def rss(items: str, title: str = "ฟีดทดสอบ") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://www.example.go.th/</link>{items}"
        "</channel></rss>"
    ).encode()


def one_entry(item_xml: str, **kwargs: object) -> FeedEntry:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("fetched_at", FETCHED)
    feed = parse_feed(rss(f"<item>{item_xml}</item>"), **kwargs)  # type: ignore[arg-type]
    [entry] = feed.entries
    return entry


def assert_utc(dt: datetime | None) -> None:
    assert dt is not None and dt.tzinfo is not None and dt.utcoffset() == timedelta(0)


# -- RSS 2.0 in Thai ----------------------------------------------------------------------------


def test_thai_rss_feed_fields() -> None:
    feed = parse("thai_rss_utf8.xml", base_url="https://www.prd.go.th/rss/news.xml")

    assert feed.title == "ข่าวประชาสัมพันธ์ กรมประชาสัมพันธ์"
    assert feed.link == "https://www.prd.go.th/th/"
    assert feed.language == "th"
    assert feed.bozo is False and feed.bozo_message is None
    assert [e.key for e in feed.entries] == ["prd-100001", "prd-100002", "prd-100003", "prd-100004"]
    for entry in feed.entries:
        assert_utc(entry.published_at)
        assert entry.date_missing is False
        assert entry.updated_at is None  # RSS with pubDate only
        assert re.fullmatch(r"[0-9a-f]{64}", entry.content_hash)


def test_thai_style_pubdate_with_time() -> None:
    entry = parse("thai_rss_utf8.xml").entries[0]

    # "วันเสาร์ที่ 13 มกราคม 2567 เวลา 09.30 น." is Bangkok time
    assert entry.published_at == utc(2024, 1, 13, 2, 30)
    assert entry.title == "นายกรัฐมนตรีเปิดงานวันเด็กแห่งชาติ ประจำปี ๒๕๖๗"
    assert entry.author == "กองข่าว กรมประชาสัมพันธ์"
    assert entry.categories == ["สังคม", "เด็กและเยาวชน"]
    assert entry.summary == "นายกรัฐมนตรีเป็นประธานเปิดงานวันเด็กแห่งชาติ ณ ทำเนียบรัฐบาล"
    # the relative <img> is resolved against the item's link
    assert entry.image_url == "https://www.prd.go.th/images/2567/kids-day.jpg"
    assert 'src="https://www.prd.go.th/images/2567/kids-day.jpg"' in entry.content_html


def test_rfc822_date_with_buddhist_era_year_is_corrected() -> None:
    entry = parse("thai_rss_utf8.xml", base_url="https://www.prd.go.th/rss/news.xml").entries[1]

    # "Fri, 25 Jul 2557 10:00:00 +0700": feedparser reads year 2557
    assert entry.published_at == utc(2014, 7, 25, 3, 0)
    assert entry.image_url == "https://www.prd.go.th/images/2557/rain.jpg"  # media:content
    # relative <link> resolved against the feed URL
    assert entry.link == "https://www.prd.go.th/th/content/category/detail/id/9/iid/100002"


def test_relative_link_without_base_url_is_dropped_but_key_kept() -> None:
    entry = parse("thai_rss_utf8.xml").entries[1]
    assert entry.link is None
    assert entry.key == "prd-100002"


def test_thai_digits_and_abbreviated_month() -> None:
    entry = parse("thai_rss_utf8.xml").entries[2]

    assert entry.published_at == utc(2015, 5, 19, 17, 0)  # "๒๐ พ.ค. ๒๕๕๘" midnight Bangkok
    assert entry.image_url == "https://www.prd.go.th/images/2558/vaccine.png"  # enclosure
    # content:encoded is the body; description is the summary
    assert entry.content_html.startswith("<h2>รณรงค์ฉีดวัคซีน</h2>")
    assert entry.summary == "รณรงค์ฉีดวัคซีนไข้หวัดใหญ่ตามฤดูกาล"


def test_ordinary_ce_date_is_untouched() -> None:
    entry = parse("thai_rss_utf8.xml").entries[3]
    assert entry.published_at == utc(2024, 1, 15, 8, 0)
    assert entry.image_url is None


# -- Atom ---------------------------------------------------------------------------------------


def test_atom_feed() -> None:
    feed = parse("atom.xml")

    assert feed.title == "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)"
    assert feed.link == "https://www.dga.or.th/th/"
    assert feed.language == "th"
    first, second = feed.entries

    assert first.key == "tag:dga.or.th,2024:news/1001"
    assert first.title == "DGA เปิดตัวแอป ทางรัฐ เวอร์ชันใหม่"  # type="html" title -> text
    assert first.link == "https://www.dga.or.th/th/news/1001"  # xml:base
    assert first.published_at == utc(2024, 4, 30, 2, 0)
    assert first.updated_at == utc(2024, 5, 1, 3, 0)
    assert first.author == "ฝ่ายสื่อสารองค์กร"
    assert first.categories == ["ดิจิทัล", "แอปพลิเคชัน"]
    assert first.summary == "แอปทางรัฐเวอร์ชันใหม่รองรับบริการภาครัฐกว่า 100 บริการ"
    assert first.image_url == "https://www.dga.or.th/img/news-1001.jpg"

    # only <updated>, with a BE year in ISO 8601
    assert second.published_at == utc(2024, 4, 29, 1, 0)
    assert second.updated_at == second.published_at
    assert 'href="https://www.dga.or.th/th/files/result.pdf"' in second.content_html
    assert "noopener noreferrer nofollow" in second.content_html


def test_no_feedparser_deprecation_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        parse("atom.xml")
        parse("thai_rss_utf8.xml")


# -- malformed, not a feed ----------------------------------------------------------------------


def test_malformed_xml_still_yields_entries_with_bozo() -> None:
    feed = parse("malformed_bozo.xml")

    assert feed.bozo is True
    assert feed.bozo_message and "\n" not in feed.bozo_message
    assert feed.title == "ข่าวกรมการปกครอง & ประกาศ"
    assert [e.key for e in feed.entries] == ["dopa-1", "dopa-2"]
    assert feed.entries[0].title == "ประกาศวันหยุดราชการ & วันหยุดชดเชย"
    assert feed.entries[0].published_at == utc(2024, 4, 1, 2, 0)
    assert feed.entries[0].link == "https://www.dopa.go.th/news/1?a=1&b=2"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (fixture_bytes("error_page.html"), "HTML page ('500 Internal Server Error')"),
        (fixture_bytes("garbage.bin"), "no RSS or Atom"),
        (b"", "empty"),
        (b"  \n ", "empty"),
        (b'{"items": []}', "no RSS or Atom"),
        (b"<html><body>Maintenance</body></html>", "HTML page"),
        (b"<?xml version='1.0'?><note><to>x</to></note>", "no RSS or Atom"),
    ],
    ids=["error-page", "garbage", "empty", "blank", "json", "html", "other-xml"],
)
def test_not_a_feed_raises(body: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError) as info:
        parse_feed(body, now=NOW)
    assert reason in str(info.value)
    assert str(info.value).startswith("not a feed")


def test_valid_feed_without_entries_is_not_an_error() -> None:
    feed = parse_feed(rss(""), now=NOW)
    assert feed.title == "ฟีดทดสอบ"
    assert feed.entries == []


# -- sanitising ---------------------------------------------------------------------------------


def test_hostile_content_is_sanitised() -> None:
    [entry] = parse("xss_content.xml").entries

    html = entry.content_html
    assert set(re.findall(r"<([a-z0-9]+)", html)) <= ALLOWED_TAGS
    for bad in ("<script", "alert", "onerror", "onclick", "javascript", "<iframe", "<style",
                "display", "data:", "evil.example", "<form", "<svg", "<object"):  # fmt: skip
        assert bad not in html.lower(), bad
    assert "ย่อหน้าแรก" in html and "ย่อหน้าสุดท้าย" in html
    assert 'href="https://news.example.go.th/about"' in html
    assert 'href="mailto:pr@example.go.th"' in html
    assert entry.image_url == "https://news.example.go.th/item/x.jpg"
    assert entry.title == "ข่าวที่มี สคริปต์"
    assert entry.summary == "สรุปข่าว ปลอดภัย"


# -- missing fields, keys -----------------------------------------------------------------------


def test_missing_guid_link_and_date() -> None:
    feed = parse("missing_fields.xml")

    assert len(feed.entries) == 4  # the empty <item/> is skipped
    with_link, date_in_title, bare, untitled = feed.entries

    assert with_link.key == "https://www.example.go.th/news/no-guid"
    assert with_link.date_missing is True
    assert with_link.published_at == FETCHED

    assert date_in_title.key.startswith("sha256:") and len(date_in_title.key) == 7 + 64
    assert date_in_title.link is None
    assert date_in_title.date_missing is False
    assert bangkok_date(date_in_title.published_at) == "2015-05-20"  # "(20 พ.ค. 58)"

    assert bare.key.startswith("sha256:")
    assert bare.date_missing is True and bare.published_at == FETCHED

    assert untitled.title.startswith("ข่าวที่ไม่มีหัวข้อ เผยแพร่เมื่อวันที่")
    assert untitled.published_at == utc(2016, 3, 3, 3, 30)  # 3 มีนาคม 2559 เวลา 10.30 น.

    assert len({e.key for e in feed.entries}) == 4


def test_keys_and_hashes_are_stable_across_fetches() -> None:
    first = parse("missing_fields.xml", fetched_at=FETCHED)
    later = parse(
        "missing_fields.xml",
        fetched_at=FETCHED + timedelta(hours=3),
        now=NOW + timedelta(hours=3),
        base_url="https://mirror.example.go.th/feed.xml",
    )

    assert [e.key for e in first.entries] == [e.key for e in later.entries]
    assert [e.content_hash for e in first.entries] == [e.content_hash for e in later.entries]
    assert later.entries[0].published_at == FETCHED + timedelta(hours=3)  # still undated


def test_key_prefers_guid_then_link() -> None:
    with_guid = one_entry("<title>t</title><guid>abc-1</guid><link>https://a.go.th/1</link>")
    with_link = one_entry("<title>t</title><link>https://a.go.th/1</link>")
    assert with_guid.key == "abc-1"
    assert with_link.key == "https://a.go.th/1"


def test_relative_guid_is_not_turned_into_a_url() -> None:
    entry = one_entry("<title>t</title><guid>item-7</guid>", base_url="https://a.go.th/feed.xml")
    assert entry.key == "item-7"


def test_content_hash_tracks_content() -> None:
    item = "<title>หัวข้อ</title><guid>g1</guid><pubDate>Mon, 01 Apr 2024 09:00:00 +0700</pubDate>"
    a = one_entry(item + "<description>เนื้อหาเดิม</description>")
    b = one_entry(item + "<description>เนื้อหาเดิม</description>")
    c = one_entry(item + "<description>เนื้อหาแก้ไข</description>")
    assert a.content_hash == b.content_hash
    assert a.content_hash != c.content_hash
    assert a.key == c.key == "g1"


# -- dates: future, past, zones -----------------------------------------------------------------


def test_far_future_date_is_rejected() -> None:
    entry = one_entry("<title>ข่าว</title><pubDate>Tue, 01 Jan 2030 09:00:00 GMT</pubDate>")
    assert entry.date_missing is True
    assert entry.published_at == FETCHED


def test_far_future_date_falls_back_to_date_in_text() -> None:
    entry = one_entry(
        "<title>ประชุม 20 พ.ค. 2567</title><guid>f2</guid>"
        "<pubDate>Tue, 01 Jan 2030 09:00:00 GMT</pubDate>"
    )
    assert entry.date_missing is False
    assert entry.published_at == utc(2024, 5, 19, 17, 0)


def test_slightly_future_date_is_clamped_to_fetch_time() -> None:
    soon = (NOW + timedelta(hours=6)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    entry = one_entry(f"<title>ข่าว</title><guid>f3</guid><pubDate>{soon}</pubDate>")
    assert entry.date_missing is False
    assert entry.published_at == FETCHED


def test_buddhist_era_year_never_stored_543_years_ahead() -> None:
    for raw in ("Sat, 01 Jun 2567 09:00:00 +0700", "2567-06-01T09:00:00+07:00", "1 June 2567"):
        entry = one_entry(f"<title>ข่าว</title><guid>be</guid><pubDate>{raw}</pubDate>")
        assert entry.published_at.year == 2024, raw
        assert entry.published_at <= FETCHED


def test_implausibly_old_date_is_rejected() -> None:
    entry = one_entry("<title>ข่าว</title><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>")
    assert entry.date_missing is True


@pytest.mark.parametrize(
    "raw",
    ["Mon, 20 May 2024 10:00:00", "2024-05-20T10:00:00", "2024-05-20 10:00", "20 May 2024 10:00"],
)
def test_date_without_zone_is_bangkok_time(raw: str) -> None:
    entry = one_entry(f"<title>ข่าว</title><guid>z</guid><pubDate>{raw}</pubDate>")
    assert entry.published_at == utc(2024, 5, 20, 3, 0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 20 May 2024 10:00:00 +0000", utc(2024, 5, 20, 10, 0)),
        ("Mon, 20 May 2024 10:00:00 GMT", utc(2024, 5, 20, 10, 0)),
        ("2024-05-20T10:00:00Z", utc(2024, 5, 20, 10, 0)),
        ("2024-05-20T10:00:00+07:00", utc(2024, 5, 20, 3, 0)),
        ("Mon, 20 May 2024 10:00:00 EST", utc(2024, 5, 20, 15, 0)),
    ],
)
def test_date_with_zone_is_honoured(raw: str, expected: datetime) -> None:
    entry = one_entry(f"<title>ข่าว</title><guid>z</guid><pubDate>{raw}</pubDate>")
    assert entry.published_at == expected


def test_unparsable_date_uses_text_then_fetch_time() -> None:
    entry = one_entry("<title>ข่าว</title><guid>u</guid><pubDate>เมื่อวานนี้</pubDate>")
    assert entry.date_missing is True and entry.published_at == FETCHED


def test_fetched_at_defaults_to_now() -> None:
    feed = parse_feed(rss("<item><title>ไม่มีวันที่</title></item>"), now=NOW)
    assert feed.entries[0].published_at == NOW and feed.entries[0].date_missing


# -- EGA press releases -------------------------------------------------------------------------

EGA = {
    "2014-07-25-phitsanulok-sukhothai": "2014-07-25",
    "2015-05-20-roadshow-nakhonsawan": "2015-05-20",
    "2015-08-11-local-egov-seminar": "2015-08-11",
}


def ega_source(slug: str) -> tuple[str, list[str]]:
    lines = (FIXTURES / "ega-press" / f"{slug}.txt").read_text(encoding="utf-8").splitlines()
    paragraphs = [line.strip() for line in lines[1:] if line.strip()]
    return lines[0].strip(), paragraphs[2:]  # skip the date line and the view count


@pytest.mark.parametrize(
    ("name", "base_url"),
    [
        ("ega_press_rss.xml", None),
        ("ega_press_atom.xml", "https://www.ega.or.th/th/press/atom.xml"),
        ("ega_press_undated.xml", None),
    ],
)
def test_ega_press_release_dates(name: str, base_url: str | None) -> None:
    feed = parse(name, base_url=base_url)

    assert len(feed.entries) == 3
    assert feed.bozo is False
    for entry, (slug, day) in zip(feed.entries, EGA.items(), strict=True):
        title, paragraphs = ega_source(slug)
        assert entry.title == title
        assert entry.link == f"https://www.ega.or.th/th/press/{slug}"
        assert entry.date_missing is False
        assert_utc(entry.published_at)
        assert bangkok_date(entry.published_at) == day, (name, slug, entry.published_at)
        assert entry.published_at == datetime.fromisoformat(day).replace(tzinfo=BANGKOK)
        assert paragraphs[0] in entry.content_html
        assert paragraphs[-1].split()[0] in entry.content_html
        assert len(entry.summary) <= SUMMARY_LIMIT + 1


def test_ega_rss_keeps_first_date_in_undated_page() -> None:
    # The roadshow text also mentions "20 มีนาคม 2558" (the event); the page date comes first.
    entry = parse("ega_press_undated.xml").entries[1]
    assert "20 มีนาคม 2558" in entry.content_html
    assert bangkok_date(entry.published_at) == "2015-05-20"


def test_ega_summaries_are_trimmed_at_a_boundary() -> None:
    feed = parse("ega_press_rss.xml")
    for entry, slug in zip(feed.entries, EGA, strict=True):
        _, paragraphs = ega_source(slug)
        full = " ".join(paragraphs)
        assert entry.summary.endswith("…")
        assert full.startswith(entry.summary[:-1])
        assert full[len(entry.summary) - 1] == " "  # cut where a space was


# -- summary trimming ---------------------------------------------------------------------------


def test_trim_text_thai_without_spaces_cuts_at_a_word_boundary() -> None:
    from pythainlp.tokenize import word_tokenize

    sentence = "สำนักงานรัฐบาลอิเล็กทรอนิกส์พัฒนาโครงสร้างพื้นฐานด้านเทคโนโลยีสารสนเทศ"
    text = sentence * 12  # ~800 characters, no spaces
    trimmed = trim_text(text, 500)

    assert trimmed.endswith("…")
    cut = len(trimmed) - 1
    assert 400 < cut <= 500
    assert text.startswith(trimmed[:-1])
    boundaries = set()
    position = 0
    for token in word_tokenize(text, engine="newmm"):
        position += len(token)
        boundaries.add(position)
    assert cut in boundaries


def test_trim_text_short_and_spaced() -> None:
    assert trim_text("  สั้น  ", 500) == "สั้น"
    words = " ".join(["คำ"] * 300)  # 899 characters
    trimmed = trim_text(words, 500)
    assert trimmed.endswith("คำ…") and len(trimmed) <= 501
