"""The province gazetteer: which provinces a news text mentions."""

import pytest

from gnews.geo.geotag import AMBIGUOUS_TH, ProvinceMention, find_provinces
from gnews.geo.provinces import all_provinces
from tests.support import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "ega-press"


def codes(text: str) -> list[str]:
    return [m.code for m in find_provinces(text)]


# --- prefixed forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "matched"),
    [
        ("ผู้ว่าราชการจังหวัดนครสวรรค์เปิดงาน", "TH-60", "จังหวัดนครสวรรค์"),
        ("ฝนตกหนักที่ จ.นครสวรรค์ เมื่อวานนี้", "TH-60", "จ.นครสวรรค์"),
        ("ฝนตกหนักที่ จ. นครสวรรค์ เมื่อวานนี้", "TH-60", "จ. นครสวรรค์"),
        ("ที่ว่าการอำเภอเมืองเชียงใหม่", "TH-50", "อำเภอเมืองเชียงใหม่"),
        ("อ.เมือง จ.ลำปาง", "TH-52", "จ.ลำปาง"),
        ("ผวจ.ขอนแก่นสั่งการ", "TH-40", "ผวจ.ขอนแก่น"),
        ("จ.โคราชเตรียมรับมือ", "TH-30", "จ.โคราช"),
        ("จ.อุบลฯ น้ำท่วม", "TH-34", "จ.อุบลฯ"),
    ],
)
def test_prefixed_forms(text, code, matched):
    assert find_provinces(text) == [ProvinceMention(code, matched)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("จังหวัดเลยจัดงานผีตาโขน", "TH-42"),
        ("จ.เลย", "TH-42"),
        ("ผวจ.เลย เปิดเผยว่า", "TH-42"),
        ("นักท่องเที่ยวเดินทางไปจังหวัดตาก", "TH-63"),
        ("อ.เมืองตาก", "TH-63"),
        ("งานประเพณีของจังหวัดแพร่", "TH-54"),
        ("จังหวัดน่านประกาศเขตภัยพิบัติ", "TH-55"),
        ("จ.กระบี่", "TH-81"),
        ("จังหวัดชุมพร", "TH-86"),
        ("จังหวัดสุรินทร์", "TH-32"),
        ("จังหวัดพิจิตร", "TH-66"),
        ("จังหวัดชัยภูมิ", "TH-36"),
        ("จังหวัดสตูล", "TH-91"),
        ("จ.อุดร", "TH-41"),
        ("จ.ประจวบ", "TH-77"),
    ],
)
def test_ambiguous_names_with_a_prefix(text, code):
    assert codes(text) == [code]


def test_every_province_is_found_by_its_prefixed_thai_name():
    for p in all_provinces():
        assert codes(f"ข่าวจากจังหวัด{p.name_th}วันนี้") == [p.code], p
        assert codes(f"ข่าวจาก จ.{p.name_th} วันนี้") == [p.code], p


def test_every_unambiguous_province_is_found_by_its_bare_names():
    for p in all_provinces():
        if p.name_th not in AMBIGUOUS_TH:
            assert codes(f"ข่าวจาก{p.name_th} วันนี้") == [p.code], p
        if p.name_en not in {"Nan", "Tak", "Surin"}:
            assert codes(f"News from {p.name_en} today") == [p.code], p
        assert codes(f"News from {p.name_en} Province today") == [p.code], p


# --- ambiguous words in ordinary sentences ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ไม่มีปัญหาเลย",
        "ขอบคุณมากเลยครับ",
        "ศาลพิพากษาให้จำเลยพ้นผิด",
        "อย่าละเลยความปลอดภัย",
        "ไปตากอากาศที่หัวหิน",
        "ชาวบ้านนำข้าวมาตากแดด",
        "เกิดเหตุที่อำเภอตากใบ",
        "โรคไข้เลือดออกแพร่ระบาดอย่างรวดเร็ว",
        "กรมประชาสัมพันธ์เผยแพร่ข่าว",
        "สถานีโทรทัศน์แพร่ภาพสด",
        "กองทัพเรือลาดตระเวนในน่านน้ำไทย",
        "ห้ามบินในน่านฟ้า",
        "ระดับแม่น้ำน่านสูงขึ้น",
        "การแสดงกระบี่กระบอง",
        "นายชุมพร ใจดี ผู้ใหญ่บ้าน",
        "นายสุรินทร์ พิศสุวรรณ",
        "อุทยานแห่งชาติหมู่เกาะสุรินทร์",
        "ตั้งฐานในชัยภูมิที่ดี",
        "ซื้อเก้าอี้สตูลให้ห้องประชุม",
        "เหตุการณ์ประจวบเหมาะพอดี",
        "ดอกอุบลบานสะพรั่ง",
        "ไปต่างจังหวัดเลย",
        "ไปมาแล้วทุกจังหวัดเลย",
        "โรคในจังหวัดแพร่กระจายเร็ว",
    ],
)
def test_ambiguous_words_in_ordinary_sentences_tag_nothing(text):
    assert codes(text) == []


def test_ambiguous_name_followed_by_ordinary_word_is_not_a_list_item():
    assert codes("จังหวัดน่าน เลยไปถึงบ้าน") == ["TH-55"]
    assert codes("จังหวัดน่าน เลยไปถึงจังหวัดแพร่") == ["TH-55", "TH-54"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ฝนตกหนักในจังหวัดตาก น่าน และแพร่", ["TH-63", "TH-55", "TH-54"]),
        ("พื้นที่ จ.แพร่-น่าน", ["TH-54", "TH-55"]),
        ("จังหวัดเชียงใหม่ ลำพูน ลำปาง แพร่ น่าน", ["TH-50", "TH-51", "TH-52", "TH-54", "TH-55"]),
        ("จังหวัดกำแพงเพชร พิจิตร และอุทัยธานี", ["TH-62", "TH-66", "TH-61"]),
        ("ภาคใต้ ได้แก่ ระนอง, ชุมพร, สุราษฎร์ธานี", ["TH-85", "TH-86", "TH-84"]),
    ],
)
def test_ambiguous_names_in_a_list_of_provinces(text, expected):
    assert codes(text) == expected


def test_ambiguous_names_alone_need_a_prefix():
    assert codes("เที่ยวน่าน") == []
    assert codes("เที่ยวกระบี่") == []


# --- whole words only ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "อัตราดอกเบี้ยนโยบาย",  # ตราด inside อัตราดอกเบี้ย
        "ตราดังกล่าวใช้ไม่ได้",  # ตรา + ดังกล่าว
        "สารกัมมันตรังสีรั่วไหล",  # ตรัง inside กัมมันตรังสี
        "รัฐตรังกานูของมาเลเซีย",  # ตรัง inside ตรังกานู
        "นางสาวปิยะลาภ",  # ยะลา inside a given name
        "ยโสธราพิมพา",  # ยโสธร inside ยโสธรา
        "สวรรค์บนดิน",  # no province is named สวรรค์ or นคร
        "เทศบาลนครแห่งหนึ่ง",
    ],
)
def test_names_inside_other_words_are_not_mentions(text):
    assert codes(text) == []


def test_nakhon_sawan_gives_exactly_one_tag():
    assert codes("นครสวรรค์") == ["TH-60"]
    assert codes("เทศบาลนครนครสวรรค์") == ["TH-60"]
    assert codes("ปากน้ำโพ") == ["TH-60"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ลงพื้นที่พิษณุโลก-สุโขทัย", ["TH-65", "TH-64"]),
        ("เดินทางจากลำพูนไปลำปาง", ["TH-51", "TH-52"]),
        ("ศรีสะเกษ ร้อยเอ็ด", ["TH-33", "TH-45"]),
        ("นักเรียนโรงเรียนระยองวิทยาคม", ["TH-21"]),
        ("เมืองใหญ่อันดับ 2 รองจากเชียงใหม่นับเป็นจังหวัดสำคัญ", ["TH-50"]),
        ("โคราชเตรียมจัดงาน", ["TH-30"]),
        ("อยุธยาน้ำท่วม", ["TH-14"]),
        ("จังหวัดพระนครศรีอยุธยา", ["TH-14"]),
        ("สุราษฎร์ฯ", ["TH-84"]),
        ("นครศรีฯ", ["TH-80"]),
        ("ยะลา ปัตตานี นราธิวาส", ["TH-95", "TH-94", "TH-96"]),
    ],
)
def test_bare_names_and_aliases(text, expected):
    assert codes(text) == expected


# --- Bangkok ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("ฝนตกในกรุงเทพฯ และปริมณฑล", "กรุงเทพฯ"),
        ("ฝนตกในกรุงเทพ ฯ และปริมณฑล", "กรุงเทพฯ"),
        ("ฝนตกในกรุงเทพ วันนี้", "กรุงเทพ"),
        ("กทม.ประกาศปิดถนน", "กทม."),
        ("ผู้ว่าฯ กทม ลงพื้นที่", "กทม"),
        ("ผว.กทม.ลงพื้นที่", "กทม."),
        ("ศาลาว่าการกรุงเทพมหานคร", "กรุงเทพมหานคร"),
        ("จังหวัดกรุงเทพมหานคร", "จังหวัดกรุงเทพมหานคร"),
        ("BANGKOK, 5 May", "BANGKOK"),
        ("Bangkok Metropolis", "Bangkok Metropolis"),
    ],
)
def test_bangkok_forms(text, matched):
    assert find_provinces(text) == [ProvinceMention("TH-10", matched)]


def test_bangkok_occurs_once():
    assert codes("กรุงเทพมหานคร (กทม.) และกรุงเทพฯ") == ["TH-10"]


# --- institutions, streets, people -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An institution with the province name as its own word is located there: a mention.
        ("มหาวิทยาลัยเชียงใหม่จัดงานวิ่ง", ["TH-50"]),
        ("มหาวิทยาลัยขอนแก่น", ["TH-40"]),
        ("มหาวิทยาลัยราชภัฏนครสวรรค์", ["TH-60"]),
        ("Chiang Mai University", ["TH-50"]),
        # Fused proper names and national bodies that merely carry a province name: not.
        ("มหาวิทยาลัยสุโขทัยธรรมาธิราช", []),
        ("ม.สุโขทัยธรรมาธิราช เปิดรับสมัคร", []),
        ("มหาวิทยาลัยสงขลานครินทร์", []),
        ("ธนาคารกรุงเทพ แจ้งผลประกอบการ", []),
        ("ธนาคารกรุงศรีอยุธยา", []),
        ("หนังสือพิมพ์กรุงเทพธุรกิจ", []),
        ("Bangkok Post reported", []),
        ("Sukhothai Thammathirat Open University", []),
        ("อุทยานแห่งชาติหมู่เกาะอ่างทอง", []),
        ("สมเด็จพระบรมราชชนก กรมหลวงสงขลานครินทร์", []),
        ("กรมพระนครสวรรค์วรพินิต", []),
        # ...but an explicit จังหวัด next to them still is.
        ("มหาวิทยาลัยสุโขทัยธรรมาธิราช จังหวัดนนทบุรี", ["TH-12"]),
        ("ธนาคารกรุงเทพ สาขาจังหวัดสุโขทัย", ["TH-64"]),
    ],
)
def test_institutions(text, expected):
    assert codes(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ทำเนียบรัฐบาล ถนนพิษณุโลก", []),
        ("ทำเนียบรัฐบาล ถ.พิษณุโลก กรุงเทพฯ", ["TH-10"]),
        ("ถนนนครสวรรค์ เขตดุสิต", []),
        ("ถนนศรีอยุธยา", []),
        ("แยกถนนเพชรบุรีตัดใหม่", []),
        ("Government House, Phitsanulok Road, Bangkok", ["TH-10"]),
        ("นายพิษณุโลก ใจดี", []),
        ("คุณลำปาง ใจดี", []),
        ("ขอบคุณเชียงใหม่", ["TH-50"]),
    ],
)
def test_streets_and_people(text, expected):
    assert codes(text) == expected


# --- English ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Flooding in Nakhon Sawan and Chonburi", ["TH-60", "TH-20"]),
        ("Flooding in Chon Buri", ["TH-20"]),
        ("Korat and Khorat", ["TH-30"]),
        ("Phang Nga Bay, Phangnga and Phang-nga", ["TH-82"]),
        ("Lopburi monkeys", ["TH-16"]),
        ("Ayutthaya temples", ["TH-14"]),
        ("Phra Nakhon Si Ayutthaya", ["TH-14"]),
        ("Loei", ["TH-42"]),
        ("Tak Province and Nan Province", ["TH-63", "TH-55"]),
        ("Mae Sot, Tak province", ["TH-63"]),
        ("NAN PROVINCE", ["TH-55"]),
        ("Nakhon  Sawan", ["TH-60"]),
    ],
)
def test_english(text, expected):
    assert codes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Please take a seat",
        "Tak Bai district",  # in Narathiwat
        "Nan said hello",
        "the value is nan",
        "Surin Pitsuwan",
        "chiang mai",  # case-sensitive
        "Bangkokian",
        "Bangkok Bank",
        "Prince of Songkla University",
        "Phitsanulok Road",
        "Trangs",
    ],
)
def test_english_negatives(text):
    assert codes(text) == []


# --- mixed, ordering, normalisation -------------------------------------------------------


def test_one_mention_per_province_in_order_of_first_appearance():
    text = "จังหวัดสุโขทัย พิษณุโลก Sukhothai จ.สุโขทัย Chiang Mai จังหวัดพิษณุโลก"
    assert find_provinces(text) == [
        ProvinceMention("TH-64", "จังหวัดสุโขทัย"),
        ProvinceMention("TH-65", "พิษณุโลก"),
        ProvinceMention("TH-50", "Chiang Mai"),
    ]


def test_normalisation():
    # Decomposed SARA AM (U+0E4D U+0E32) and a doubled SARA E for SARA AE.
    assert codes("จังหวัดลําปาง") == ["TH-52"]
    assert codes("จังหวัดเเพร่") == ["TH-54"]
    assert codes("จังหวัด\u200bเลย") == ["TH-42"]


def test_empty_and_irrelevant_text():
    assert find_provinces("") == []
    assert find_provinces("รัฐบาลประกาศนโยบายใหม่ทั่วประเทศ") == []
    assert find_provinces("ภาคเหนือและภาคกลาง") == []


# --- real EGA press releases --------------------------------------------------------------


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_press_release_phitsanulok_sukhothai():
    assert codes(_fixture("2014-07-25-phitsanulok-sukhothai.txt")) == [
        "TH-65",  # Phitsanulok: the visit (title, its governor's office, ปลัดจังหวัดพิษณุโลก)
        "TH-64",  # Sukhothai: the visit (title, รองผู้ว่าราชการจังหวัดสุโขทัย)
        "TH-20",  # Chon Buri: "the roadshow held in จังหวัดชลบุรี last month", a real but
        #           passing mention; the gazetteer reports mentions, not their importance
    ]


def test_press_release_nakhon_sawan_roadshow():
    assert codes(_fixture("2015-05-20-roadshow-nakhonsawan.txt")) == [
        "TH-60",  # Nakhon Sawan: the roadshow's host province
        "TH-73",  # Nakhon Pathom: the 2015 roadshow list (first stop) — "จังหวัดนครปฐม"
        "TH-83",  # Phuket: the list and the next stop (19 June)
        "TH-30",  # Nakhon Ratchasima: the list and the last stop (18 September)
        "TH-62",  # Kamphaeng Phet: neighbouring province whose officials attended
        "TH-66",  # Phichit: ditto, "จังหวัดกำแพงเพชร พิจิตร และอุทัยธานี" (listed after
        #           a prefixed name, so the ambiguous พิจิตร is accepted)
        "TH-61",  # Uthai Thani: ditto
        "TH-50",  # Chiang Mai: "second-largest city of the north after เชียงใหม่", a passing
        #           comparison but a genuine mention
    ]


def test_press_release_local_egov_seminar():
    assert codes(_fixture("2015-08-11-local-egov-seminar.txt")) == [
        "TH-10",  # Bangkok: the venue (Royal Princess Hotel Larn Luang, กรุงเทพฯ); "ระดับ
        #           จังหวัด"/"ระดับจึงหวัด" (provincial level) names no province
    ]


def test_fixtures_are_the_shared_samples_copied_into_the_repo():
    assert sorted(p.name for p in FIXTURES.glob("*.txt")) == [
        "2014-07-25-phitsanulok-sukhothai.txt",
        "2015-05-20-roadshow-nakhonsawan.txt",
        "2015-08-11-local-egov-seminar.txt",
    ]
