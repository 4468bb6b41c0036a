"""Tests for gnews.thai.text."""

import pytest
from pythainlp.tokenize import word_tokenize

from gnews.thai.text import MAX_QUERY_TERMS, MAX_TERMS, index_terms, normalize_text, query_terms

SENTENCES = [
    "สำนักงานประกันสังคมแจ้งว่าผู้ประกันตนมาตรา 33 สามารถยื่นเรื่องได้ตั้งแต่วันนี้",
    "กระทรวงเกษตรและสหกรณ์ประกาศราคาสินค้าเกษตรประจำวัน",
    "นางไอรดา เหลืองวิไล รองผู้อำนวยการสำนักงานรัฐบาลอิเล็กทรอนิกส์ หรือ อีจีเอ",
    "ชาวบ้านตากลมริมแม่น้ำเจ้าพระยาเมื่อเช้านี้",
    "กรมอุตุนิยมวิทยาเตือนพายุฤดูร้อนถล่มกรุงเทพฯ และปริมณฑล ๒๕ มี.ค. ๒๕๖๘",
    "EGA Roadshow 2015 : e-Government for All “รัฐบาลอิเล็กทรอนิกส์ เชื่อมโยงทุกส่วนราชการ”",
    "ภาครัฐใช้บริการ GIN แล้วกว่า 3,108 หน่วยงานทั่วประเทศ ในปีพ.ศ. 2558 ตั้งเป้าเพิ่ม",
    "นายชยพลกล่าวว่าจังหวัดนครสวรรค์เป็นประตูสู่ภาคเหนือ",
]

# Text from an EGA press release (2015), used for the speed check.
PRESS_RELEASE = (
    "EGA เดินหน้าจัดสัมมนาและโรดโชว์ โครงการ EGA Roadshow 2015 :e-Government for All "
    "“รัฐบาลอิเล็กทรอนิกส์ เชื่อมโยงทุกส่วนราชการเพื่อบริการประชาชน” ต่อที่จังหวัดนครสวรรค์"
    "เป็นจังหวัดที่ 2 ในปีนี้ หวังเปิดประตูสู่ภาคเหนือเชื่อมต่อ และบูรณาการข้อมูลทุกภาคส่วน "
    "ยกระดับการบริหารงานและบริการประชาชนให้ได้รับประโยชน์สูงสุด ด้าน จ.นครสวรรค์ "
    "พร้อมขับเคลื่อนการบริหารราชการสู่รัฐบาลอิเล็กทรอนิกส์ ตั้งเป้าเป็นศูนย์กลางเทคโนโลยี"
    "เชื่อมต่อทั้งภาคเหนือตอนบนและตอนล่าง ชู จุดเด่นฐานข้อมูลหลักเกี่ยวกับศิลปวัฒนธรรม "
    "ประเพณีและข้อมูลท้องถิ่นของ จังหวัดนครสวรรค์ และจังหวัดใกล้เคียง "
    "นายวิบูลย์ ภัทรพิบูล ผู้อำนวยการฝ่ายบริการให้คำปรึกษา สำนักงานรัฐบาลอิเล็กทรอนิกส์ "
    "(องค์การมหาชน) เปิดเผยถึง การจัดงาน EGA Roadshow 2015 ว่า สำนักงานรัฐบาลอิเล็กทรอนิกส์ "
    "(องค์การมหาชน) หรือ EGA ได้ดำเนินการจัดงานสัมมนาและโรดโชว์บริการเพื่อภาครัฐในต่างจังหวัด "
    "โดยงานนี้ได้จัดต่อเนื่องตั้งแต่ปี 2557 ซึ่งในปีนี้กำหนดจัดทั้งสิ้นจำนวน 4 ครั้ง "
    "มีหน่วยงานภาครัฐใช้บริการ GIN แล้วกว่า 3,108 หน่วยงานทั่วประเทศ และในปีพ.ศ. 2558 "
    "ตั้งเป้าเพิ่มจำนวนการใช้งาน "
)

_LEADING = set("เแโใไ")
_NON_INITIAL = set("ะัาำิีึืฺุูๅ็่้๊๋์ํ๎")


def _matches(query: str, document: str) -> bool:
    terms = set(index_terms(document))
    return all(term in terms for term in query_terms(query))


def _aligned(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] does not cut a Thai character cluster or a Latin word/number."""

    def boundary(i: int) -> bool:
        if i in (0, len(text)):
            return True
        before, after = text[i - 1], text[i]
        if after in _NON_INITIAL or before in _LEADING:
            return False
        return not (before.isascii() and after.isascii() and before.isalnum() and after.isalnum())

    return boundary(start) and boundary(end) and text[start:end].strip() != ""


# --- the contract -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "document"),
    [
        ("ประกันสังคม", "สำนักงานประกันสังคมแจ้งว่าผู้ประกันตนต้องยื่นเรื่องภายในเดือนนี้"),
        ("สังคม", "สำนักงานประกันสังคมแจ้งว่า"),
        ("ประกัน สังคม", "สำนักงานประกันสังคมแจ้งว่า"),
        ("สำนักงานประกันสังคม", "สำนักงานประกันสังคมแจ้งว่า"),
        ("การประกันสังคม", "เรื่องการประกันสังคมของแรงงาน"),
        ("Social Security", "The social security office said"),
        ("SOCIAL security", "สำนักงาน Social Security Office"),
        ("รัฐบาลอิเล็กทรอนิกส์", "สำนักงานรัฐบาลอิเล็กทรอนิกส์ (องค์การมหาชน)"),
        ("อิเล็กทรอนิกส์", "สำนักงานรัฐบาลอิเล็กทรอนิกส์"),
        ("เกษตร", "กระทรวงเกษตรและสหกรณ์"),
        ("สหกรณ์", "กระทรวงเกษตรและสหกรณ์"),
        ("ไอรดา", "นางไอรดา เหลืองวิไล รองผู้อำนวยการ"),  # a name not in the dictionary
        ("ภัทรพิบูล", "นายวิบูลย์ ภัทรพิบูล ผู้อำนวยการฝ่ายบริการ"),
        ("นครสวรรค์", "ด้าน จ.นครสวรรค์ พร้อมขับเคลื่อน"),
        ("ก.พ.ร.", "จับมือ สำนักงบฯ สำนักงาน ก.พ.ร. สำนักงานสถิติแห่งชาติ"),
        ("พ.ศ. 2558", "และในปีพ.ศ. 2558 ตั้งเป้า"),
        ("กรุงเทพฯ", "โรงแรมรอยัล ปริ๊นเซส หลานหลวง กรุงเทพฯ ผู้ร่วมสัมมนา"),
        ("e-Government", "EGA Roadshow 2015 : e-Government for All"),
        ("๒๕๕๘", "ในปี 2558"),
        ("2558", "ในปี ๒๕๕๘"),
        ("3108", "แล้วกว่า 3,108 หน่วยงาน"),
        ("3,108", "แล้วกว่า 3108 หน่วยงาน"),
        ("2558", "ประกาศเมื่อ 20.05.2558"),
        ("05.2558", "ประกาศเมื่อ 20.05.2558"),
        ("10.30", "เวลา 10.30 น."),
        ("ต่างๆ", "บริการต่างๆ อาทิ"),
        ("ต่าง ๆ", "บริการต่างๆ อาทิ"),
    ],
)
def test_query_matches_document(query, document):
    assert query_terms(query)
    assert _matches(query, document)


@pytest.mark.parametrize("sentence", SENTENCES)
def test_contract_for_whole_word_substrings(sentence):
    """Every run of 1-4 consecutive words of a sentence, used as a query, matches it."""
    document = normalize_text(sentence)
    terms = set(index_terms(sentence))
    words = word_tokenize(document, engine="newmm", keep_whitespace=True)
    offsets = [0]
    for word in words:
        offsets.append(offsets[-1] + len(word))
    assert offsets[-1] == len(document)
    checked = 0
    for i in range(len(words)):
        for j in range(i + 1, min(i + 4, len(words)) + 1):
            query = document[offsets[i] : offsets[j]]
            if not _aligned(document, offsets[i], offsets[j]):
                continue
            missing = [t for t in query_terms(query) if t not in terms]
            assert not missing, (query, missing)
            checked += 1
    assert checked >= len(words) // 2


@pytest.mark.parametrize("sentence", SENTENCES)
def test_contract_for_every_aligned_substring(sentence):
    """Stronger: any substring that does not cut a character cluster or word matches."""
    document = normalize_text(sentence)
    terms = set(index_terms(sentence))
    for start in range(len(document)):
        for end in range(start + 1, min(start + 25, len(document)) + 1):
            if not _aligned(document, start, end):
                continue
            query = document[start:end]
            missing = [t for t in query_terms(query) if t not in terms]
            assert not missing, (query, missing)


@pytest.mark.parametrize(
    ("query", "document"),
    [
        ("ประกันสังคม", "บริษัทประกันภัยและสังคมไทย"),  # both words, not the compound
        ("ประกันภัย", "สำนักงานประกันสังคมแจ้งว่า"),
        ("เกษตรกร", "กระทรวงเกษตรและสหกรณ์"),
        ("social insurance", "social security office"),
        ("2557", "ในปี 2558"),
        ("ไอรดา", "นางสาวสมศรี ใจดี"),
    ],
)
def test_query_does_not_match_unrelated_document(query, document):
    assert not _matches(query, document)


# --- index_terms --------------------------------------------------------------------------------


def test_index_terms_contains_compound_and_parts():
    terms = index_terms("สำนักงานประกันสังคมแจ้งว่า")
    for word in ("สำนักงานประกันสังคม", "สำนักงาน", "ประกันสังคม", "ประกัน", "สังคม", "แจ้ง", "ว่า"):
        assert word in terms


def test_index_terms_dedupe_and_order_of_first_appearance():
    terms = index_terms("ภาษี ภาษี Tax TAX tax 2558 ๒๕๕๘ ภาษี")
    assert len(terms) == len(set(terms))
    assert terms.index("ภาษี") < terms.index("tax") < terms.index("2558")
    assert terms.count("tax") == 1


def test_index_terms_drop_whitespace_and_punctuation():
    terms = index_terms("  (ประกาศ) — “ข่าว”, ... !!! ๆ ฯ  \n\t ")
    assert "ประกาศ" in terms
    assert "ข่าว" in terms
    for term in terms:
        assert term.strip() == term
        assert term
        assert not any(ch in term for ch in "()—“”,.!ๆฯ")


def test_index_terms_numbers_and_digits():
    terms = index_terms("ผู้ประกันตนมาตรา ๓๓ จำนวน 3,108 คน เมื่อ 20.05.2558 เวลา 10:30 น. เพิ่มขึ้น 2.5%")
    for term in ("33", "3108", "20.05.2558", "20", "05", "2558", "05.2558", "10:30", "10", "30"):
        assert term in terms
    assert "2.5" in terms
    assert "๓๓" not in terms


def test_index_terms_cap():
    words = [f"word{i} คำที่{i}" for i in range(5000)]
    huge = " ".join(words)
    terms = index_terms(huge)
    assert len(terms) == MAX_TERMS
    # the cap keeps the beginning of the document
    assert index_terms(" ".join(words[:50])) == terms[: len(index_terms(" ".join(words[:50])))]


def test_index_terms_empty():
    assert index_terms("") == []
    assert index_terms("   \n ") == []
    assert index_terms("!!! ... ---") == []


def test_index_terms_of_a_long_press_release_stay_under_the_cap():
    # Its speed is measured by bench/ingest.py (the whole poll pipeline), not by a timed test.
    terms = index_terms((PRESS_RELEASE * 3)[:2000])
    assert 100 < len(terms) < MAX_TERMS


# --- query_terms --------------------------------------------------------------------------------


def test_query_terms_coarse_dictionary_words():
    assert query_terms("ประกันสังคม") == ["ประกันสังคม"]
    assert query_terms("ประกัน สังคม") == ["ประกัน", "สังคม"]
    assert query_terms("Social Security") == ["social", "security"]


def test_query_terms_dedupe():
    assert query_terms("ภาษี ภาษี ภาษี") == ["ภาษี"]
    assert query_terms("Tax tax TAX") == ["tax"]


def test_query_terms_digits():
    assert query_terms("มาตรา ๓๓") == ["มาตรา", "33"]
    assert query_terms("3,108") == ["3108"]
    assert query_terms("2.5") == ["2.5"]


def test_query_terms_stopwords_dropped_only_when_others_remain():
    # Typed as words of their own, stopwords go; inside a run of Thai they are part of a name.
    assert query_terms("ข่าว ของ กระทรวง") == ["ข่าว", "กระทรวง"]
    assert query_terms("ทางรัฐ") == ["ทาง", "รัฐ"]
    assert query_terms("ยืนยันตัวตน") == ["ยืนยัน", "ตัวตน"]
    assert query_terms("การประกันสังคม") == ["การ", "ประกันสังคม"]
    assert query_terms("the social security") == ["social", "security"]
    assert query_terms("ที่") == ["ที่"]
    assert query_terms("the") == ["the"]


def test_query_terms_empty():
    assert query_terms("") == []
    assert query_terms("   ") == []
    assert query_terms("?!.,") == []


def test_query_terms_cap():
    query = " ".join(f"word{i}" for i in range(100))
    assert len(query_terms(query)) == MAX_QUERY_TERMS


# --- normalize_text -----------------------------------------------------------------------------


def test_normalize_text():
    assert normalize_text("  Social\u00a0\u00a0SECURITY \n\t office ") == "social security office"
    assert normalize_text("ประ\u200bกัน\u200dสังคม\ufeff") == "ประกันสังคม"
    assert normalize_text("ปี ๒๕๕๘") == "ปี 2558"
    assert normalize_text("เเปลก") == "แปลก"  # two Sara E -> Sara Ae
    assert normalize_text("นานาาา") == "นานา"
    assert normalize_text("") == ""


def test_normalize_text_is_idempotent():
    for sentence in SENTENCES:
        once = normalize_text(sentence)
        assert normalize_text(once) == once
