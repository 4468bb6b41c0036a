"""The Electronic Government Agency (EGA) plugin for G-News and GAC.

EGA (สำนักงานรัฐบาลอิเล็กทรอนิกส์, now the Digital Government Development Agency, DGA) runs
G-News and GAC. This plugin declares the agency; its news feeds and app listings are added by
the ingestion and GAC work (see docs/plugins.md for every hook).
"""

from __future__ import annotations

from gnews.hookspecs import AgencySpec, hookimpl

__version__ = "0.1.0"

AGENCY_CODE = "ega"


@hookimpl
def gnews_agencies() -> list[AgencySpec]:
    """EGA itself."""
    return [
        AgencySpec(
            code=AGENCY_CODE,
            name_th="สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
            name_en="Digital Government Development Agency (EGA)",
            website="https://www.dga.or.th",
        )
    ]
