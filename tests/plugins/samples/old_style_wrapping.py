"""An old-style hook wrapper (``hookwrapper=True``): it gets pluggy's Result and forces another."""

from gnews.hookspecs import AgencySpec, hookimpl

seen = []


@hookimpl(hookwrapper=True)
def gnews_agencies():
    """Keep what the others answered, then put an agency first."""
    outcome = yield
    seen.append(outcome.get_result())
    first = [AgencySpec(code="forced", name_th="หน่วยงานบังคับ", name_en="Forced")]
    outcome.force_result([first, *outcome.get_result()])
