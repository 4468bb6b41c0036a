"""decode_feed: correct Unicode for UTF-8 and TIS-620/windows-874 feeds, declared right or wrong."""

from __future__ import annotations

import codecs

import pytest

from tests.workers.feeds.conftest import FIXTURES, NOW, fixture_bytes
from workers.feeds.encoding import decode_feed, detect_feed_encoding, looks_thai
from workers.feeds.normalize import parse_feed

TIS620 = fixture_bytes("rss_tis620.xml")
EXPECTED = (FIXTURES / "rss_tis620.expected.txt").read_text(encoding="utf-8")
EXPECTED_BODY = EXPECTED.split("?>", 1)[1].lstrip()  # everything after the XML declaration
TIS_DECL = b'<?xml version="1.0" encoding="TIS-620"?>'


def body_after_declaration(text: str) -> str:
    return (text.split("?>", 1)[1] if text.startswith("<?xml") else text).lstrip()


def test_fixture_really_is_tis620() -> None:
    assert TIS620.startswith(TIS_DECL)
    with pytest.raises(UnicodeDecodeError):
        TIS620.decode("utf-8")
    assert TIS620.decode("cp874") == EXPECTED


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(TIS620, None, id="declared-TIS-620"),
        pytest.param(TIS620, "application/rss+xml", id="declared-TIS-620-http-no-charset"),
        pytest.param(TIS620.replace(b"TIS-620", b"ISO-8859-11"), None, id="declared-iso-8859-11"),
        pytest.param(TIS620.replace(b"TIS-620", b"windows-874"), None, id="declared-windows-874"),
        pytest.param(TIS620.replace(b"TIS-620", b"UTF-8"), None, id="wrongly-declared-UTF-8"),
        pytest.param(TIS620.replace(TIS_DECL, b'<?xml version="1.0"?>'), None, id="no-encoding"),
        pytest.param(TIS620.replace(TIS_DECL + b"\n", b""), None, id="no-declaration"),
        pytest.param(TIS620, "text/xml; charset=tis-620", id="http-charset"),
        pytest.param(TIS620, "text/xml; charset=utf-8", id="http-charset-wrongly-utf-8"),
        pytest.param(TIS620, "text/html; charset=ISO-8859-1", id="http-apache-default-latin-1"),
        pytest.param(TIS620, 'text/xml; charset="windows-1252"', id="http-windows-1252"),
    ],
)
def test_tis620_bytes_decode_to_thai(body: bytes, content_type: str | None) -> None:
    text = decode_feed(body, content_type)

    assert body_after_declaration(text) == EXPECTED_BODY
    assert "ข่าวจังหวัดเชียงใหม่" in text
    assert "สันป่าตอง…" in text  # U+2026 is 0x85: in windows-874 but not in TIS-620 proper
    assert detect_feed_encoding(body, content_type) == "cp874"


def test_utf8_bytes_with_wrong_tis620_declaration() -> None:
    body = fixture_bytes("rss_utf8_declared_tis620.xml")
    assert b'encoding="TIS-620"' in body

    text = decode_feed(body, None)

    assert "ข่าวจังหวัดเชียงราย" in text
    assert text == body.decode("utf-8").replace('encoding="TIS-620"', 'encoding="utf-8"')
    assert decode_feed(body, "text/xml; charset=TIS-620") == text  # HTTP says so too


def test_plain_utf8_feed_is_unchanged() -> None:
    body = fixture_bytes("thai_rss_utf8.xml")
    text = decode_feed(body, "application/rss+xml; charset=utf-8")
    assert text == body.decode("utf-8").replace('encoding="UTF-8"', 'encoding="utf-8"', 1)


def test_declaration_is_rewritten_to_utf8() -> None:
    text = decode_feed(TIS620, None)
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')


def test_declaration_with_single_quotes_and_leading_whitespace() -> None:
    body = b"\n  <?xml version='1.0' encoding='tis-620' standalone='yes'?><rss/>"
    expected = "<?xml version='1.0' encoding='utf-8' standalone='yes'?><rss/>"
    assert decode_feed(body, None) == expected


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_mark(bom: bytes, codec: str) -> None:
    source = '<?xml version="1.0" encoding="UTF-16"?><rss><title>ข่าว</title></rss>'
    text = decode_feed(bom + source.encode(codec), None)
    assert text == '<?xml version="1.0" encoding="utf-8"?><rss><title>ข่าว</title></rss>'


def test_mostly_utf8_with_a_corrupt_byte_stays_utf8() -> None:
    good = EXPECTED.replace('encoding="TIS-620"', 'encoding="UTF-8"').encode("utf-8")
    body = good.replace("ข่าวจังหวัด".encode(), "ข่าวจังหวัด".encode()[:-1] + b"\xff", 1)

    text = decode_feed(body, None)

    assert "\ufffd" in text
    assert "ผู้ว่าราชการจังหวัดเชียงใหม่" in text  # the rest is intact, not mojibake


def test_real_latin1_is_not_mistaken_for_thai() -> None:
    source = "<rss><channel><title>Café résumé naïve Zürich à la carte</title></channel></rss>"
    body = source.encode("latin-1")

    assert decode_feed(body, None) == source
    assert decode_feed(body, "text/xml; charset=iso-8859-1") == source


def test_declared_windows_1252_western_text() -> None:
    source = '<?xml version="1.0" encoding="windows-1252"?><rss><title>“Q” – Café</title></rss>'
    assert decode_feed(source.encode("cp1252"), None) == source.replace("windows-1252", "utf-8")


def test_unknown_declared_encoding_falls_back() -> None:
    body = TIS620.replace(b"TIS-620", b"x-no-such-charset")
    assert body_after_declaration(decode_feed(body, None)) == EXPECTED_BODY


def test_looks_thai() -> None:
    assert looks_thai("ผู้ว่าราชการจังหวัดเชียงใหม่ ตรวจเยี่ยม")
    assert not looks_thai("Caf้ r้sum้")  # "Café résumé" read as cp874
    assert not looks_thai("plain ascii")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(TIS620, None, id="tis-620"),
        pytest.param(TIS620.replace(b"TIS-620", b"UTF-8"), None, id="tis-620-declared-utf-8"),
        pytest.param(TIS620.replace(TIS_DECL + b"\n", b""), None, id="tis-620-undeclared"),
        pytest.param(TIS620, "text/xml; charset=ISO-8859-1", id="tis-620-http-latin-1"),
        pytest.param(fixture_bytes("rss_utf8_declared_tis620.xml"), None, id="utf-8-as-tis-620"),
    ],
)
def test_feedparser_gets_correct_thai(body: bytes, content_type: str | None) -> None:
    feed = parse_feed(body, content_type=content_type, now=NOW)

    assert feed.title in ("ข่าวจังหวัดเชียงใหม่", "ข่าวจังหวัดเชียงราย")
    assert feed.bozo is False, feed.bozo_message
    first, second = feed.entries
    assert first.title == "ผู้ว่าราชการจังหวัดเชียงใหม่ตรวจเยี่ยมพื้นที่น้ำท่วม"
    assert first.summary == "ผู้ว่าราชการจังหวัดพร้อมคณะลงพื้นที่อำเภอสันป่าตอง… มอบถุงยังชีพ ๕๐๐ ชุด"
    assert second.title == "ประกาศรับสมัครพนักงานราชการ"
