"""Tests for gnews.thai.dates."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gnews.thai.dates import (
    BANGKOK,
    correct_buddhist_era,
    find_date_in_text,
    parse_thai_datetime,
    thai_digits_to_arabic,
    to_be_year,
    to_ce_year,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- helpers ------------------------------------------------------------------------------------


def test_bangkok_zone():
    assert datetime(2015, 1, 1, tzinfo=BANGKOK).utcoffset() == timedelta(hours=7)


def test_thai_digits_to_arabic():
    assert thai_digits_to_arabic("๐๑๒๓๔๕๖๗๘๙") == "0123456789"
    assert thai_digits_to_arabic("วันที่ ๒๕ ก.ค. ๒๕๕๗ abc 12") == "วันที่ 25 ก.ค. 2557 abc 12"
    assert thai_digits_to_arabic("") == ""


def test_year_conversion():
    assert to_be_year(2014) == 2557
    assert to_ce_year(2557) == 2014
    assert to_ce_year(2014) == 2014
    assert to_ce_year(2400) == 1857
    assert to_ce_year(2399) == 2399
    assert to_ce_year(to_be_year(2025)) == 2025


# --- parse_thai_datetime ------------------------------------------------------------------------

PARSE_CASES = [
    # Thai weekday prefix, Thai digits, time with น.
    ("วันศุกร์ที่ ๒๕ กรกฎาคม ๒๕๕๗ เวลา ๑๐.๓๐ น.", utc(2014, 7, 25, 3, 30)),
    ("วันจันทร์ที่ 3 มีนาคม 2559", utc(2016, 3, 2, 17, 0)),
    ("วันพฤหัสบดีที่ 1 ตุลาคม 2558 เวลา 13.00 น.", utc(2015, 10, 1, 6, 0)),
    # English months with BE years (EGA press releases); date only = midnight Bangkok
    ("25 July 2557", utc(2014, 7, 24, 17, 0)),
    ("20 May 2558", utc(2015, 5, 19, 17, 0)),
    ("11 August 2558", utc(2015, 8, 10, 17, 0)),
    ("3 March 2559", utc(2016, 3, 2, 17, 0)),
    ("May 20, 2558", utc(2015, 5, 19, 17, 0)),
    ("July 25th, 2014 at 10:30 am", utc(2014, 7, 25, 3, 30)),
    ("25 Jul 2557 10:00 PM", utc(2014, 7, 25, 15, 0)),
    # every Thai month, full names
    ("1 มกราคม 2558", utc(2014, 12, 31, 17, 0)),
    ("1 กุมภาพันธ์ 2558", utc(2015, 1, 31, 17, 0)),
    ("1 มีนาคม 2558", utc(2015, 2, 28, 17, 0)),
    ("1 เมษายน 2558", utc(2015, 3, 31, 17, 0)),
    ("1 พฤษภาคม 2558", utc(2015, 4, 30, 17, 0)),
    ("1 มิถุนายน 2558", utc(2015, 5, 31, 17, 0)),
    ("1 กรกฎาคม 2558", utc(2015, 6, 30, 17, 0)),
    ("1 กรกฏาคม 2558", utc(2015, 6, 30, 17, 0)),  # common misspelling
    ("1 สิงหาคม 2558", utc(2015, 7, 31, 17, 0)),
    ("1 กันยายน 2558", utc(2015, 8, 31, 17, 0)),
    ("1 ตุลาคม 2558", utc(2015, 9, 30, 17, 0)),
    ("1 พฤศจิกายน 2558", utc(2015, 10, 31, 17, 0)),
    ("1 ธันวาคม 2558", utc(2015, 11, 30, 17, 0)),
    # every Thai month, abbreviated, 4-digit years
    ("2 ม.ค. 2558", utc(2015, 1, 1, 17, 0)),
    ("2 ก.พ. 2558", utc(2015, 2, 1, 17, 0)),
    ("2 มี.ค. 2558", utc(2015, 3, 1, 17, 0)),
    ("2 เม.ย. 2558", utc(2015, 4, 1, 17, 0)),
    ("2 พ.ค. 2558", utc(2015, 5, 1, 17, 0)),
    ("2 มิ.ย. 2558", utc(2015, 6, 1, 17, 0)),
    ("2 ก.ค. 2558", utc(2015, 7, 1, 17, 0)),
    ("2 ส.ค. 2558", utc(2015, 8, 1, 17, 0)),
    ("2 ก.ย. 2558", utc(2015, 9, 1, 17, 0)),
    ("2 ต.ค. 2558", utc(2015, 10, 1, 17, 0)),
    ("2 พ.ย. 2558", utc(2015, 11, 1, 17, 0)),
    ("2 ธ.ค. 2558", utc(2015, 12, 1, 17, 0)),
    # abbreviation variants: no dots, no trailing dot, spaces, no space before the year
    ("3 มีค 2559", utc(2016, 3, 2, 17, 0)),
    ("3 มี.ค 2559", utc(2016, 3, 2, 17, 0)),
    ("3 มี. ค. 2559", utc(2016, 3, 2, 17, 0)),
    ("3มี.ค.2559", utc(2016, 3, 2, 17, 0)),
    # two-digit BE years in short styles
    ("3 มี.ค. 59", utc(2016, 3, 2, 17, 0)),
    ("25 ก.ค.57", utc(2014, 7, 24, 17, 0)),
    ("๒๕ ก.ค. ๕๗ ๑๐:๓๐ น.", utc(2014, 7, 25, 3, 30)),
    ("14 ตุลา 16", utc(1973, 10, 13, 17, 0)),
    # พ.ศ. / ค.ศ. before the year
    ("15 ธันวาคม พ.ศ. 2558", utc(2015, 12, 14, 17, 0)),
    ("ประกาศ ณ วันที่ ๑๕ ธันวาคม พ.ศ.๒๕๕๘", utc(2015, 12, 14, 17, 0)),
    ("15 ธันวาคม ค.ศ. 2015", utc(2015, 12, 14, 17, 0)),
    # CE years are left alone
    ("25 กรกฎาคม 2014", utc(2014, 7, 24, 17, 0)),
    # times: "เวลา 10.30 น.", "10:30 น.", "13.00", seconds, ranges
    ("25 ก.ค. 2557 10:30 น.", utc(2014, 7, 25, 3, 30)),
    ("25 ก.ค. 2557 เวลา 10.30 น.", utc(2014, 7, 25, 3, 30)),
    ("25 ก.ค. 2557 13.00", utc(2014, 7, 25, 6, 0)),
    ("25 ก.ค. 2557 - 13:05:09", utc(2014, 7, 25, 6, 5, 9)),
    ("25 ก.ค. 2557 เวลา 09.00-12.00 น.", utc(2014, 7, 25, 2, 0)),
    ("25 ก.ค. 2557 10:00-12:00 น.", utc(2014, 7, 25, 3, 0)),  # a range, not a -12:00 offset
    ("25 ก.ค. 2557 เวลา 10 นาฬิกา", utc(2014, 7, 25, 3, 0)),
    # RFC 822 with a BE year (what feedparser rejects); offsets and zones honoured
    ("Tue, 25 Jul 2557 10:00:00 +0700", utc(2014, 7, 25, 3, 0)),
    ("Tue, 25 Jul 2557 10:00:00 GMT", utc(2014, 7, 25, 10, 0)),
    ("Tue, 25 Jul 2557 10:00:00 UTC", utc(2014, 7, 25, 10, 0)),
    ("Tue, 25 Jul 2557 10:00:00 -0500", utc(2014, 7, 25, 15, 0)),
    ("Tue, 25 Jul 2557 10:00:00 EST", utc(2014, 7, 25, 15, 0)),
    ("Tue, 25 Jul 2557 10:00:00 +0000", utc(2014, 7, 25, 10, 0)),
    ("25 Jul 2557 10:00 GMT+7", utc(2014, 7, 25, 3, 0)),
    ("25 ก.ค. 2557 10:00 +07:00", utc(2014, 7, 25, 3, 0)),
    ("Tue, 25 Jul 2014 10:00:00 +0700", utc(2014, 7, 25, 3, 0)),
    ("Tue, 25 Jul 14 10:00:00 +0700", utc(2014, 7, 25, 3, 0)),  # obsolete 2-digit CE year
    # ISO 8601 with BE or CE years
    ("2558-05-20T10:00:00+07:00", utc(2015, 5, 20, 3, 0)),
    ("2558-05-20T10:00:00", utc(2015, 5, 20, 3, 0)),
    ("2015-05-20T10:00:00Z", utc(2015, 5, 20, 10, 0)),
    ("2015-05-20T10:00:00.123+0000", utc(2015, 5, 20, 10, 0)),
    ("2015-05-20T10:00+02", utc(2015, 5, 20, 8, 0)),
    ("2015-05-20", utc(2015, 5, 19, 17, 0)),
    ("2558-05-20 เวลา 09.00 น.", utc(2015, 5, 20, 2, 0)),
    # day-first numeric dates
    ("25/07/2557", utc(2014, 7, 24, 17, 0)),
    ("๒๕/๐๗/๒๕๕๗ ๑๐:๓๐", utc(2014, 7, 25, 3, 30)),
    ("25-07-2014", utc(2014, 7, 24, 17, 0)),
    # leap day: 2559 BE = 2016 CE is a leap year, 2558 BE = 2015 CE is not
    ("29 ก.พ. 2559", utc(2016, 2, 28, 17, 0)),
    # surrounding noise, zero-width characters and non-breaking spaces
    ("  Posted:\u00a025\u200b July 2557 \n", utc(2014, 7, 24, 17, 0)),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_thai_datetime(text, expected):
    result = parse_thai_datetime(text, now=NOW)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "garbage",
        "ไม่มีวันที่",
        "พ.ศ. 2558",  # no day or month
        "ในปีพ.ศ. 2558",
        "กรกฎาคม 2557",  # no day
        "25 กรกฎาคม",  # no year
        "31 เมษายน 2558",  # April has 30 days
        "29 ก.พ. 2558",  # 2015 is not a leap year
        "30 February 2016",
        "0 มกราคม 2558",
        "32 มกราคม 2558",
        "31/04/2558",
        "2015-13-01",
        "2015-02-30T10:00:00Z",
        "25 ก.ค. 3558",  # far future even as BE
        "25 Jul 2200",  # CE year 175 years ahead
        "1 January 1200",
        "\x00\x01\x02",
        "๒๕๕๗",
        "1,234,567",
        "version 10.30",
    ],
)
def test_parse_thai_datetime_none(text):
    assert parse_thai_datetime(text, now=NOW) is None


def test_impossible_time_is_ignored():
    # "25:61" is not a time; the date before it is still usable
    assert parse_thai_datetime("25 ก.ค. 2557 25:61", now=NOW) == utc(2014, 7, 24, 17, 0)


@pytest.mark.parametrize("value", [None, 2558, b"25 July 2557", ["25 July 2557"]])
def test_parse_non_strings_return_none(value):
    assert parse_thai_datetime(value) is None
    assert find_date_in_text(value) is None


def test_parse_long_garbage_is_quick_and_none():
    assert parse_thai_datetime("1 " * 20000, now=NOW) is None
    assert find_date_in_text("ก.ค. " * 20000, now=NOW) is None


def test_two_digit_year_century_follows_now():
    # the century nearest to `now` wins
    assert parse_thai_datetime("3 มี.ค. 59", now=utc(2016, 3, 10)) == utc(2016, 3, 2, 17, 0)
    assert parse_thai_datetime("3 มี.ค. 59", now=utc(2110, 1, 1)) == utc(2116, 3, 2, 17, 0)
    assert parse_thai_datetime("1 ม.ค. 68", now=NOW) == utc(2024, 12, 31, 17, 0)


def test_default_now_is_current_time():
    assert parse_thai_datetime("3 มี.ค. 59") == utc(2016, 3, 2, 17, 0)
    assert parse_thai_datetime("25 July 2557") == utc(2014, 7, 24, 17, 0)


def test_naive_now_is_accepted():
    assert parse_thai_datetime("3 มี.ค. 59", now=datetime(2025, 6, 1)) == utc(2016, 3, 2, 17, 0)


def test_explicit_offset_beats_bangkok_default():
    plus7 = parse_thai_datetime("Fri, 25 Jul 2557 10:00:00 +0700", now=NOW)
    naive = parse_thai_datetime("Fri, 25 Jul 2557 10:00:00", now=NOW)
    gmt = parse_thai_datetime("Fri, 25 Jul 2557 10:00:00 GMT", now=NOW)
    assert plus7 == naive == utc(2014, 7, 25, 3, 0)
    assert gmt - naive == timedelta(hours=7)
    tokyo = parse_thai_datetime("2014-07-25T10:00:00+09:00", now=NOW)
    assert tokyo == datetime(2014, 7, 25, 10, 0, tzinfo=timezone(timedelta(hours=9)))


# --- find_date_in_text --------------------------------------------------------------------------

# Date lines and sentences from real EGA press releases (2014-2015).
EGA_HEADER = (
    "อีจีเอ ลงพื้นที่พิษณุโลก-สุโขทัย รับฟีดแบ็คจริงจากหน่วยงานภาครัฐ\n\n\n25 July 2557\n877\n\n"
    "อีจีเอใส่ใจภาครัฐทุกภาคส่วน จับมือ สำนักงบฯ สำนักงาน ก.พ.ร. สำนักงานสถิติแห่งชาติ"
)
EGA_ROADSHOW = (
    "สำหรับการจัดงานในครั้งนี้ที่ จังหวัดนครสวรรค์ เป็นจังหวัดที่สองต่อจากจังหวัดนครปฐม "
    "โดยกำหนดจัดขึ้นในวันที่ 20 มีนาคม 2558 ณ ห้องฟอรั่ม บอลลูม ชั้น 3"
)
EGA_SEMINAR = (
    "โดยมี ดร.ศักดิ์ เสกขุนทด ผู้อำนวยการสำนักงานรัฐบาลอิเล็กทรอนิกส์ ให้เกียรติกล่าวเปิดงาน "
    "เมื่อวันที่ 7 สิงหาคม 2558 ณ ห้องราชดำเนิน โรงแรมรอยัล ปริ๊นเซส  หลานหลวง กรุงเทพฯ  "
    "ผู้ร่วมสัมมนา ประกอบด้วยผู้บริหารระดับสูงของหน่วยงานภาครัฐ จำนวน กว่า 70 คน"
)
EGA_NO_YEAR = (
    "EGA Roadshow 2015 : e-Government for All มีกำหนดจัดขึ้นอีก 2 ครั้ง "
    "โดยครั้งต่อไปจะจัดขึ้นที่จังหวัดภูเก็ตในวันศุกร์ที่ 19 มิถุนายน และจังหวัดนครราชสีมา "
    "ในวันศุกร์ที่ 18 กันยายน ตามลำดับ"
)
EGA_YEAR_ONLY = "มีหน่วยงานภาครัฐใช้บริการ GIN แล้วกว่า 3,108 หน่วยงานทั่วประเทศ และในปีพ.ศ. 2558 ตั้งเป้า"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (EGA_HEADER, utc(2014, 7, 24, 17, 0)),
        (EGA_ROADSHOW, utc(2015, 3, 19, 17, 0)),
        (EGA_SEMINAR, utc(2015, 8, 6, 17, 0)),
        ("20 May 2558\n1596", utc(2015, 5, 19, 17, 0)),
        ("11 August 2558\n1988", utc(2015, 8, 10, 17, 0)),
        (
            "กระทรวงมหาดไทยขอเชิญประชาชนร่วมงาน ในวันศุกร์ที่ ๒๕ กรกฎาคม ๒๕๕๗ เวลา ๑๐.๓๐ น. "
            "ณ ศาลากลางจังหวัด และวันที่ 26 กรกฎาคม 2557",
            utc(2014, 7, 25, 3, 30),
        ),
        ("ประชุมวันที่ 1-3 มีนาคม 2558 เวลา 09.00-16.00 น. ณ ทำเนียบรัฐบาล", utc(2015, 3, 1, 2, 0)),
        ("ข่าวประชาสัมพันธ์ (3 มี.ค. 59) กรมประชาสัมพันธ์", utc(2016, 3, 2, 17, 0)),
        ("เมื่อ 12 ต.ค.2558 เวลา 14:30 นายกรัฐมนตรีกล่าวว่า", utc(2015, 10, 12, 7, 30)),
        ("Updated May 20, 2558 by admin", utc(2015, 5, 19, 17, 0)),
        ("ฉบับวันที่ 25/07/2557", utc(2014, 7, 24, 17, 0)),
        # an invalid first date is skipped
        ("ระหว่าง 31 เมษายน 2558 และ 2 พฤษภาคม 2558", utc(2015, 5, 1, 17, 0)),
        # "ก.พ.ร." (an agency) is not February
        ("สำนักงาน ก.พ.ร. 25 คน เมื่อวันที่ 7 สิงหาคม 2558", utc(2015, 8, 6, 17, 0)),
    ],
)
def test_find_date_in_text(text, expected):
    assert find_date_in_text(text, now=NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        EGA_NO_YEAR,
        EGA_YEAR_ONLY,
        "ภายในวันที่ 3 มีนาคม 15 ราย",  # full month + 2 digits is not a year in free text
        "สำนักงาน ก.พ.ร. 59 แห่ง",
        "โทร 02-612-6000 ราคา 3,108 บาท",
        "",
    ],
)
def test_find_date_in_text_none(text):
    assert find_date_in_text(text, now=NOW) is None


# --- correct_buddhist_era -----------------------------------------------------------------------


def test_correct_buddhist_era_subtracts_543():
    assert correct_buddhist_era(utc(2558, 5, 20, 3, 0), now=NOW) == utc(2015, 5, 20, 3, 0)
    assert correct_buddhist_era(utc(2568, 1, 1), now=NOW) == utc(2025, 1, 1)
    naive = correct_buddhist_era(datetime(2557, 7, 25, 10, 0), now=NOW)
    assert naive == datetime(2014, 7, 25, 10, 0)
    assert naive.tzinfo is None


def test_correct_buddhist_era_keeps_plausible_dates():
    for dt in (utc(2015, 5, 20), utc(2025, 6, 2), utc(2030, 1, 1), utc(1999, 12, 31)):
        assert correct_buddhist_era(dt, now=NOW) == dt


def test_correct_buddhist_era_leap_day():
    # 2560 is a leap year read as CE, but 2017 is not
    assert correct_buddhist_era(utc(2560, 2, 29, 1, 2), now=NOW) == utc(2017, 2, 28, 1, 2)
    # (543 % 4 == 3, so a CE leap year never maps to a leap year); other days are unchanged
    assert correct_buddhist_era(utc(2560, 3, 1), now=NOW) == utc(2017, 3, 1)
    assert correct_buddhist_era(utc(2560, 2, 28), now=NOW) == utc(2017, 2, 28)


def test_correct_buddhist_era_twice_converted():
    # 2558 BE converted to "BE" once more: 3101
    assert correct_buddhist_era(utc(3101, 1, 1), now=NOW) == utc(2015, 1, 1)


def test_correct_buddhist_era_never_far_future_for_be_dates():
    # any BE date up to a year ahead of now, misread as CE, comes back at most a year ahead
    for be_year in range(2450, to_be_year(NOW.year) + 2):
        fixed = correct_buddhist_era(utc(be_year, 6, 1), now=NOW)
        assert fixed == utc(be_year - 543, 6, 1)
        assert fixed <= NOW + timedelta(days=366)


def test_correct_buddhist_era_default_now():
    assert correct_buddhist_era(utc(2558, 5, 20)) == utc(2015, 5, 20)
