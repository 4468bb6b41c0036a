"""``/api/v1/provinces`` and ``/api/v1/regions``: Thailand's 77 provinces and six regions."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath, FromQuery

from gnews.core.errors import FieldError, NotFoundError
from gnews.geo.provinces import (
    UnknownRegionError,
    all_provinces,
    all_regions,
    check_region_code,
    get_province,
    provinces_in_region,
)
from gnews.geo.schemas import ProvinceOut, RegionOut

CACHE_SECONDS = 86400  # reference data changes with a new release, not at run time


class ReferenceController(Controller):
    """Thailand reference data, public and cacheable."""

    path = "/api/v1"
    tags = ["reference data"]
    cache_control = CacheControlHeader(max_age=CACHE_SECONDS, public=True)

    @get("/provinces", summary="List provinces")
    async def list_provinces(self, region: FromQuery[str | None] = None) -> list[ProvinceOut]:
        """All 77 provinces by code, or those of one region (``?region=north``)."""
        if region is None:
            return [ProvinceOut.model_validate(p) for p in all_provinces()]
        try:
            region = check_region_code(region)
        except UnknownRegionError as error:
            raise FieldError("region", str(error)) from None
        return [ProvinceOut.model_validate(p) for p in provinces_in_region(region)]

    @get("/provinces/{code:str}", summary="One province")
    async def get_one_province(self, code: FromPath[str]) -> ProvinceOut:
        """The province with this ISO 3166-2:TH code (e.g. ``TH-60``)."""
        province = get_province(code)
        if province is None:
            raise NotFoundError(f"unknown province code {code!r}")
        return ProvinceOut.model_validate(province)

    @get("/regions", summary="List regions")
    async def list_regions(self) -> list[RegionOut]:
        """The six geographic regions with their provinces."""
        return [
            RegionOut(
                code=r.code,
                name_th=r.name_th,
                name_en=r.name_en,
                provinces=[p.code for p in provinces_in_region(r.code)],
            )
            for r in all_regions()
        ]
