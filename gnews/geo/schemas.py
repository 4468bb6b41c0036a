"""What the reference-data API shows of provinces and regions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ProvinceOut(BaseModel):
    """A province: ISO 3166-2:TH code, names, abbreviation and region."""

    code: str
    name_th: str
    name_en: str
    abbr_th: str
    region: str

    model_config = ConfigDict(from_attributes=True)


class RegionOut(BaseModel):
    """A region and the codes of its provinces."""

    code: str
    name_th: str
    name_en: str
    provinces: list[str]
