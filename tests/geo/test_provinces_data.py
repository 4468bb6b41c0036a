"""The committed province/region reference data and its accessors."""

import json
import re
from collections import Counter
from importlib import resources

import pytest
from pydantic import BaseModel, ValidationError
from pythainlp.corpus import provinces as pythainlp_provinces

from gnews.geo.provinces import (
    Province,
    ProvinceCode,
    RegionCode,
    UnknownProvinceError,
    UnknownRegionError,
    all_provinces,
    all_regions,
    check_province_code,
    check_region_code,
    get_province,
    get_region,
    provinces_in_region,
)

REGION_COUNTS = {"north": 9, "northeast": 20, "central": 22, "east": 7, "west": 5, "south": 14}


def test_77_provinces_with_unique_iso_codes_sorted():
    provinces = all_provinces()
    codes = [p.code for p in provinces]
    assert len(provinces) == 77
    assert len(set(codes)) == 77
    assert codes == sorted(codes)
    assert all(re.fullmatch(r"TH-\d{2}", c) for c in codes)
    assert codes[0] == "TH-10" and codes[-1] == "TH-96"
    assert get_province("TH-S") is None  # Pattaya is not a province


def test_names_unique():
    provinces = all_provinces()
    assert len({p.name_th for p in provinces}) == 77
    assert len({p.name_en for p in provinces}) == 77
    assert len({p.abbr_th for p in provinces}) == 77


def test_six_regions_with_official_counts():
    assert [r.code for r in all_regions()] == list(REGION_COUNTS)
    assert Counter(p.region for p in all_provinces()) == REGION_COUNTS
    assert sum(REGION_COUNTS.values()) == 77
    for code, count in REGION_COUNTS.items():
        assert len(provinces_in_region(code)) == count


def test_every_referenced_region_exists():
    region_codes = {r.code for r in all_regions()}
    assert {p.region for p in all_provinces()} <= region_codes


def test_spot_checks():
    assert get_province("TH-60") == Province(
        code="TH-60",
        name_th="นครสวรรค์",
        name_en="Nakhon Sawan",
        abbr_th="นว",
        region="central",
        aliases_th=("ปากน้ำโพ",),
        aliases_en=(),
    )
    expected = {
        "TH-10": ("กรุงเทพมหานคร", "Bangkok", "กทม", "central"),
        "TH-14": ("พระนครศรีอยุธยา", "Phra Nakhon Si Ayutthaya", "อย", "central"),
        "TH-20": ("ชลบุรี", "Chon Buri", "ชบ", "east"),
        "TH-30": ("นครราชสีมา", "Nakhon Ratchasima", "นม", "northeast"),
        "TH-38": ("บึงกาฬ", "Bueng Kan", "บก", "northeast"),
        "TH-42": ("เลย", "Loei", "ลย", "northeast"),
        "TH-50": ("เชียงใหม่", "Chiang Mai", "ชม", "north"),
        "TH-53": ("อุตรดิตถ์", "Uttaradit", "อต", "north"),
        "TH-61": ("อุทัยธานี", "Uthai Thani", "อน", "central"),
        "TH-63": ("ตาก", "Tak", "ตก", "west"),
        "TH-64": ("สุโขทัย", "Sukhothai", "สท", "central"),
        "TH-65": ("พิษณุโลก", "Phitsanulok", "พล", "central"),
        "TH-67": ("เพชรบูรณ์", "Phetchabun", "พช", "central"),
        "TH-77": ("ประจวบคีรีขันธ์", "Prachuap Khiri Khan", "ปข", "west"),
        "TH-82": ("พังงา", "Phangnga", "พง", "south"),
        "TH-86": ("ชุมพร", "Chumphon", "ชพ", "south"),
        "TH-96": ("นราธิวาส", "Narathiwat", "นธ", "south"),
    }
    for code, (name_th, name_en, abbr_th, region) in expected.items():
        p = get_province(code)
        assert p is not None
        assert (p.name_th, p.name_en, p.abbr_th, p.region) == (name_th, name_en, abbr_th, region)


def test_north_is_the_nine_upper_northern_provinces():
    assert {p.name_en for p in provinces_in_region("north")} == {
        "Chiang Mai",
        "Chiang Rai",
        "Lampang",
        "Lamphun",
        "Mae Hong Son",
        "Nan",
        "Phayao",
        "Phrae",
        "Uttaradit",
    }


def test_names_agree_with_pythainlp():
    ours = {(p.name_th, p.name_en, p.abbr_th) for p in all_provinces()}
    theirs = {(d["name_th"], d["name_en"], d["abbr_th"]) for d in pythainlp_provinces(True)}
    assert len(theirs) == 77
    assert ours == theirs


def test_aliases():
    bangkok = get_province("TH-10")
    assert bangkok is not None
    assert {"กรุงเทพฯ", "กรุงเทพ", "กทม.", "กทม"} <= set(bangkok.aliases_th)
    assert "Bangkok Metropolis" in bangkok.aliases_en
    assert "โคราช" in get_province("TH-30").aliases_th
    assert "Korat" in get_province("TH-30").aliases_en
    assert "อยุธยา" in get_province("TH-14").aliases_th
    assert "Ayutthaya" in get_province("TH-14").aliases_en
    assert "Chonburi" in get_province("TH-20").aliases_en
    assert "Lopburi" in get_province("TH-16").aliases_en
    assert {"Phang Nga", "Phang-nga"} <= set(get_province("TH-82").aliases_en)
    # No alias is another province's name, and no alias is shared by two provinces.
    forms = [f for p in all_provinces() for f in (p.name_th, p.name_en, *p.aliases_th)]
    forms += [f for p in all_provinces() for f in p.aliases_en]
    assert len(forms) == len(set(forms))


def test_data_file_is_utf8_pretty_json():
    text = resources.files("gnews.geo").joinpath("data", "provinces.json").read_text("utf-8")
    data = json.loads(text)
    assert set(data) == {"regions", "provinces"}
    assert "นครสวรรค์" in text  # not \u-escaped
    assert text.startswith("{\n  ")


def test_lookups_are_case_insensitive():
    assert get_province("th-60") is get_province("TH-60")
    assert get_province(" th-60 ") is get_province("TH-60")
    assert get_province("TH-99") is None
    assert get_region("North") == get_region("north")
    assert get_region("nowhere") is None


def test_check_province_code():
    assert check_province_code("th-60") == "TH-60"
    assert check_province_code(" TH-10\n") == "TH-10"
    with pytest.raises(UnknownProvinceError, match="unknown province code 'TH-99'") as exc:
        check_province_code("TH-99")
    assert isinstance(exc.value, ValueError)
    assert exc.value.code == "TH-99"
    for bad in ("", "TH-S", "TH-6", "60", "นครสวรรค์"):
        with pytest.raises(UnknownProvinceError):
            check_province_code(bad)


def test_check_region_code():
    assert check_region_code("Central") == "central"
    with pytest.raises(UnknownRegionError, match="unknown region code 'middle'"):
        check_region_code("middle")
    with pytest.raises(UnknownRegionError):
        provinces_in_region("middle")


class _Subscription(BaseModel):
    province: ProvinceCode
    region: RegionCode | None = None


def test_pydantic_types_normalise():
    sub = _Subscription.model_validate({"province": "th-60", "region": "North"})
    assert sub.province == "TH-60"
    assert sub.region == "north"


def test_pydantic_unknown_province_names_the_field():
    with pytest.raises(ValidationError) as exc:
        _Subscription.model_validate({"province": "TH-99"})
    errors = exc.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == ("province",)
    assert "unknown province code 'TH-99'" in errors[0]["msg"]


def test_pydantic_unknown_region_names_the_field():
    with pytest.raises(ValidationError) as exc:
        _Subscription.model_validate({"province": "TH-10", "region": "middle"})
    assert exc.value.errors()[0]["loc"] == ("region",)
