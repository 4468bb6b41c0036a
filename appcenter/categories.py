"""The GAC categories: a fixed vocabulary, so phones can show stable filters with Thai and
English names, and listings cannot scatter over near-duplicate spellings."""

from __future__ import annotations

from gnews.news.categories import Category

CATEGORIES: tuple[Category, ...] = (
    Category("government-services", "บริการภาครัฐ", "Government services"),
    Category("digital-id", "ยืนยันตัวตนดิจิทัล", "Digital identity"),
    Category("health", "สุขภาพ", "Health"),
    Category("education", "การศึกษา", "Education"),
    Category("finance", "การเงินและภาษี", "Finance and tax"),
    Category("welfare", "สวัสดิการสังคม", "Social welfare"),
    Category("employment", "การงานและอาชีพ", "Jobs and employment"),
    Category("business", "ธุรกิจ", "Business"),
    Category("agriculture", "เกษตร", "Agriculture"),
    Category("transport", "การเดินทางและคมนาคม", "Transport"),
    Category("tourism", "ท่องเที่ยว", "Tourism"),
    Category("safety", "ความปลอดภัยและภัยพิบัติ", "Safety and disasters"),
    Category("environment", "สิ่งแวดล้อม", "Environment"),
    Category("news", "ข่าวสาร", "News and information"),
    Category("utilities", "สาธารณูปโภค", "Utilities"),
    Category("law", "กฎหมายและยุติธรรม", "Law and justice"),
    Category("local", "ท้องถิ่นและจังหวัด", "Local and provincial"),
)

CATEGORY_CODES: frozenset[str] = frozenset(category.code for category in CATEGORIES)
