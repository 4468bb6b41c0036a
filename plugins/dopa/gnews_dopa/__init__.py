"""The Department of Provincial Administration (กรมการปกครอง, DOPA): an agency's GAC plugin.

It declares the agency and its apps for the GAC catalogue, and no news feed. Its listings wait
for EGA editors' review unless an admin marks the agency trusted.
"""

from __future__ import annotations

from gnews.hookspecs import AgencySpec, AppListingSpec, hookimpl

__version__ = "0.1.0"

AGENCY_CODE = "dopa"


@hookimpl
def gnews_agencies() -> list[AgencySpec]:
    """The department."""
    return [
        AgencySpec(
            code=AGENCY_CODE,
            name_th="กรมการปกครอง",
            name_en="Department of Provincial Administration",
            website="https://www.dopa.go.th",
        )
    ]


@hookimpl
def gnews_app_listings() -> list[AppListingSpec]:
    """ThaID, the state's digital identity app (its published store identifiers; no iOS bundle
    id is given, as none is known: the App Store link is what citizens follow)."""
    return [
        AppListingSpec(
            slug="thaid",
            agency=AGENCY_CODE,
            name_th="ไทยดี (ThaID)",
            name_en="ThaID",
            description_th=(
                "บัตรประจำตัวประชาชนดิจิทัล ยืนยันตัวตนเพื่อเข้าใช้บริการออนไลน์ของภาครัฐ "
                "และแสดงข้อมูลทะเบียนราษฎรของตนเอง"
            ),
            description_en=(
                "The digital identity card: prove who you are to government online services "
                "and see your own civil registration records."
            ),
            categories=["digital-id", "government-services"],
            android_package="th.go.dopa.bora.dims.ddopa",
            app_store_url="https://apps.apple.com/th/app/thaid/id1533612248",
            tags=["บัตรประชาชน", "ยืนยันตัวตน", "digital id"],
        )
    ]
