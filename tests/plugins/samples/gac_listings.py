"""A plugin declaring GAC listings for two agencies; the sync tests set what it declares."""

from gnews.hookspecs import AgencySpec, AppListingSpec, hookimpl

LISTINGS: list[AppListingSpec | dict] = []
"""What ``gnews_app_listings`` returns (set by the test)."""

RAISE = False
"""When True, ``gnews_app_listings`` raises (a transient error in the plugin)."""


@hookimpl
def gnews_agencies():
    """An agency the test marks trusted and one it does not."""
    return [
        AgencySpec(code="trusted-agency", name_th="หน่วยงานที่เชื่อถือ", name_en="Trusted"),
        AgencySpec(code="plain-agency", name_th="หน่วยงานทั่วไป", name_en="Plain"),
    ]


@hookimpl
def gnews_app_listings():
    """The listings the test set."""
    if RAISE:
        raise RuntimeError("listing service unavailable")
    return list(LISTINGS)
