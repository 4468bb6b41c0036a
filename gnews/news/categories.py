"""The news categories citizens can follow: a fixed vocabulary with Thai and English names.

Devices subscribe to category *codes* (``health``, ``disaster``…); an unknown code is refused.
Agencies' feeds label their items freely (often in Thai), so an item belongs to a category when
its ``categories`` hold the category's code or either of its names (``health``, ``สุขภาพ`` or
``Health``): :func:`category_values` lists them for queries. Free-form source categories are
left as they are; the public ``category`` filter accepts a code, a name, or any other label.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from gnews.core.localisation import pick


@dataclass(frozen=True, slots=True)
class Category:
    """One category of a fixed vocabulary: a stable code with its Thai and English names.

    Used for the news categories below and for the GAC catalogue's (:mod:`appcenter.categories`).
    """

    code: str
    name_th: str
    name_en: str


CATEGORIES: tuple[Category, ...] = (
    Category("announcement", "ประกาศ", "Announcements"),
    Category("public-relations", "ประชาสัมพันธ์", "Public relations"),
    Category("health", "สุขภาพ", "Health"),
    Category("education", "การศึกษา", "Education"),
    Category("welfare", "สวัสดิการ", "Welfare"),
    Category("employment", "การจ้างงาน", "Jobs and employment"),
    Category("agriculture", "เกษตร", "Agriculture"),
    Category("economy", "เศรษฐกิจ", "Economy"),
    Category("tax", "ภาษี", "Tax"),
    Category("transport", "คมนาคม", "Transport"),
    Category("tourism", "ท่องเที่ยว", "Tourism"),
    Category("weather", "สภาพอากาศ", "Weather"),
    Category("disaster", "ภัยพิบัติ", "Disasters"),
    Category("security", "ความมั่นคง", "Security"),
    Category("environment", "สิ่งแวดล้อม", "Environment"),
    Category("energy", "พลังงาน", "Energy"),
    Category("technology", "เทคโนโลยี", "Technology"),
    Category("digital-government", "รัฐบาลดิจิทัล", "Digital government"),
    Category("law", "กฎหมาย", "Law"),
    Category("culture", "วัฒนธรรม", "Culture"),
    Category("sports", "กีฬา", "Sports"),
    Category("events", "กิจกรรม", "Events"),
    Category("procurement", "จัดซื้อจัดจ้าง", "Procurement"),
)

CATEGORY_CODES: frozenset[str] = frozenset(category.code for category in CATEGORIES)


class UnknownCategoryError(ValueError):
    """A category code that is not one of :data:`CATEGORIES`."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"unknown category {code!r}")


@functools.cache
def _by_value() -> dict[str, Category]:
    index: dict[str, Category] = {}
    for category in CATEGORIES:
        for value in (category.code, category.name_th, category.name_en):
            index[value.casefold()] = category
    return index


def find_category(value: str) -> Category | None:
    """The category whose code or Thai or English name is ``value`` (case-insensitive)."""
    return _by_value().get(value.strip().casefold())


def check_category(code: str) -> str:
    """Validate a category code (case-insensitive); return it canonical. Raises
    :class:`UnknownCategoryError` for anything else (names are not codes)."""
    canonical = code.strip().lower()
    if canonical not in CATEGORY_CODES:
        raise UnknownCategoryError(code)
    return canonical


def category_values(value: str) -> list[str]:
    """What an item's ``categories`` may hold to belong to the category named by ``value``:
    its code and names for a known category, else ``value`` itself."""
    category = find_category(value)
    if category is None:
        return [value]
    return [category.code, category.name_th, category.name_en]


def category_name(value: str, language: str) -> str | None:
    """The name of the known category ``value`` (a code or a name) in ``language``, or None."""
    category = find_category(value)
    return pick(language, category.name_th, category.name_en) if category else None
