"""A plugin that declares an agency with an invalid code (and one valid one)."""

from gnews.hookspecs import hookimpl


@hookimpl
def gnews_agencies():
    """One bad declaration, one good one."""
    return [
        {"code": "Not A Code!", "name_th": "x", "name_en": "x"},
        {"code": "valid-one", "name_th": "หน่วยงาน", "name_en": "Valid"},
    ]
