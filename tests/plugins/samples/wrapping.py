"""A new-style hook wrapper (``wrapper=True``): it sees the other answers and changes the result."""

from gnews.hookspecs import AgencySpec, hookimpl

ADDED = [AgencySpec(code="wrapped", name_th="หน่วยงานห่อ", name_en="Wrapped")]


@hookimpl(wrapper=True)
def gnews_agencies():
    """Drop the good sample's agency list and add one of its own."""
    answers = yield
    kept = [answer for answer in answers if all(spec.code != "nakhonsawan" for spec in answer)]
    return [*kept, ADDED]
