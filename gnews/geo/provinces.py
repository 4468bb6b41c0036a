"""Thailand reference data: the 77 provinces and the six geographic regions.

The data lives in ``gnews/data/provinces.json`` (committed, shipped as package data) and is
loaded once. Province codes are ISO 3166-2:TH (``TH-10`` Bangkok ... ``TH-96`` Narathiwat;
Pattaya's ``TH-S`` is not a province and is not included). Regions follow the official
six-region system: ``north``, ``northeast``, ``central`` (includes Bangkok), ``east``,
``west``, ``south``.

:func:`check_province_code` is the one validator for province codes coming from outside
(request bodies, query strings, CLI options); :data:`ProvinceCode` wraps it for pydantic.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

from litestar.openapi.spec import Example
from litestar.params import QueryParameter
from pydantic import AfterValidator

__all__ = [
    "Province",
    "ProvinceCode",
    "Region",
    "RegionCode",
    "UnknownProvinceError",
    "UnknownRegionError",
    "all_provinces",
    "all_regions",
    "check_province_code",
    "check_region_code",
    "get_province",
    "get_region",
    "provinces_in_region",
]

_DATA_FILE = "provinces.json"


@dataclass(frozen=True, slots=True)
class Region:
    """A geographic region (six-region system)."""

    code: str
    name_th: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Province:
    """A province (or Bangkok), keyed by its ISO 3166-2:TH code."""

    code: str
    name_th: str
    name_en: str
    abbr_th: str
    region: str
    aliases_th: tuple[str, ...]
    aliases_en: tuple[str, ...]


class UnknownProvinceError(ValueError):
    """Raised for a province code that is not one of the 77 ISO 3166-2:TH province codes."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"unknown province code {code!r}")


class UnknownRegionError(ValueError):
    """Raised for a region code that is not one of the six region codes."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"unknown region code {code!r}")


@functools.cache
def _load() -> dict[str, Any]:
    text = resources.files("gnews.geo").joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def all_provinces() -> tuple[Province, ...]:
    """Return all 77 provinces, sorted by code."""
    return tuple(
        Province(
            code=p["code"],
            name_th=p["name_th"],
            name_en=p["name_en"],
            abbr_th=p["abbr_th"],
            region=p["region"],
            aliases_th=tuple(p["aliases_th"]),
            aliases_en=tuple(p["aliases_en"]),
        )
        for p in sorted(_load()["provinces"], key=lambda p: p["code"])
    )


@functools.cache
def all_regions() -> tuple[Region, ...]:
    """Return the six regions, in the order north, northeast, central, east, west, south."""
    return tuple(Region(r["code"], r["name_th"], r["name_en"]) for r in _load()["regions"])


@functools.cache
def _provinces_by_code() -> dict[str, Province]:
    return {p.code: p for p in all_provinces()}


@functools.cache
def _regions_by_code() -> dict[str, Region]:
    return {r.code: r for r in all_regions()}


def get_province(code: str) -> Province | None:
    """Return the province with this code (case-insensitive, e.g. ``"th-60"``), or ``None``."""
    return _provinces_by_code().get(code.strip().upper())


def get_region(code: str) -> Region | None:
    """Return the region with this code (case-insensitive, e.g. ``"North"``), or ``None``."""
    return _regions_by_code().get(code.strip().lower())


@functools.cache
def _provinces_by_region() -> dict[str, tuple[Province, ...]]:
    return {r.code: tuple(p for p in all_provinces() if p.region == r.code) for r in all_regions()}


def provinces_in_region(region_code: str) -> tuple[Province, ...]:
    """Return the provinces of a region, sorted by code.

    The region code is validated like :func:`check_region_code` (raises
    :class:`UnknownRegionError` for an unknown region).
    """
    return _provinces_by_region()[check_region_code(region_code)]


def check_province_code(code: str) -> str:
    """Validate a province code: strip, upper-case, return the canonical code.

    Raises :class:`UnknownProvinceError` (a ``ValueError``) if it is not a province code.
    """
    province = get_province(code)
    if province is None:
        raise UnknownProvinceError(code)
    return province.code


def check_region_code(code: str) -> str:
    """Validate a region code: strip, lower-case, return the canonical code.

    Raises :class:`UnknownRegionError` (a ``ValueError``) if it is not a region code.
    """
    region = get_region(code)
    if region is None:
        raise UnknownRegionError(code)
    return region.code


ProvinceCode = Annotated[str, AfterValidator(check_province_code)]
"""A province code in a pydantic model; normalised to canonical form (``"th-60"`` → ``"TH-60"``)."""

RegionCode = Annotated[str, AfterValidator(check_region_code)]
"""A region code in a pydantic model; normalised to canonical form (``"North"`` → ``"north"``)."""


ProvinceQuery = Annotated[
    str | None,
    QueryParameter(
        description="ISO 3166-2:TH province code (case-insensitive), e.g. TH-50 เชียงใหม่",
        schema_extra={"enum": [province.code for province in all_provinces()]},
        examples=[Example(summary="เชียงใหม่", value="TH-50")],
    ),
]
"""A ``province`` query parameter: documented with the 77 codes; checked by the handler."""
