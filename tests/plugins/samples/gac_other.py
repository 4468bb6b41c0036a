"""A second plugin declaring GAC listings: one valid, the others each wrong in one way."""

from gnews.hookspecs import AppListingSpec, hookimpl

VALID = {
    "slug": "other-valid",
    "agency": "plain-agency",
    "name_th": "แอปอื่น",
    "description_th": "แอปของอีกปลั๊กอิน",
    "web_url": "https://other.example.go.th/",
}


@hookimpl
def gnews_app_listings():
    """One good declaration and several bad ones."""
    return [
        AppListingSpec(**VALID),
        {**VALID, "slug": "bad-package", "android_package": "not a package"},
        {**VALID, "slug": "plain-http", "web_url": "http://other.example.go.th/"},
        {**VALID, "slug": "unknown-agency", "agency": "nowhere"},
        {**VALID, "slug": "no-platform", "web_url": None},
        {**VALID, "slug": "bad-category", "categories": ["games"]},
        {**VALID, "slug": "wrong-store", "google_play_url": "https://evil.example/?id=a.b"},
        {**VALID, "slug": "unknown-field", "price": 0},
        {**VALID, "slug": "taken-slug"},
    ]
