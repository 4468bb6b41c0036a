"""The devices a notification's audience means: the one MongoDB filter the fan-out streams and
the preview counts (:func:`device_filter`).

A device matches when it is active and, for every dimension the audience gives, follows (or is)
one of its values: provinces (regions count as all their provinces), categories, agencies,
platform, language. Within a dimension values are alternatives; dimensions combine. A device
that follows no province is not reached by a province or region audience, only by ``everyone``
(or by an audience without a geographic dimension).

Shape: one flat filter. A scalar field (``platform``, ``language``) with one value is an
equality, served from the ``(active, platform, _id)`` index; array fields (provinces,
categories, agencies) are ``{"$in": [...]}``; a dimension without values is left out (never
``{"$in": []}``). The fan-out streams the devices in ``_id`` order
(:func:`gnews.core.persistence.shapes.stream_by_id`), the preview counts them
(:func:`gnews.core.persistence.shapes.count`).
"""

from __future__ import annotations

from typing import Any

from gnews.devices.platforms import push_platforms
from gnews.geo.provinces import provinces_in_region
from gnews.notifications.models import Audience

LANGUAGES = ("th", "en")
SCALAR_FIELDS = frozenset({"platform", "language"})
"""Device fields holding one value (the others hold lists)."""


def audience_provinces(audience: Audience) -> list[str]:
    """The province codes of the audience: its provinces and those of its regions, in order,
    once each."""
    codes = list(audience.provinces)
    for region in audience.regions:
        codes += [province.code for province in provinces_in_region(region)]
    return list(dict.fromkeys(codes))


def device_filter(audience: Audience) -> dict[str, Any]:
    """The filter on ``devices`` matching the audience (see the module docstring)."""
    query: dict[str, Any] = {"active": True}
    dimensions: list[tuple[str, list[str]]] = [
        ("platform", audience.platforms),
        ("language", audience.languages),
    ]
    if not audience.everyone:
        dimensions += [
            ("provinces", audience_provinces(audience)),
            ("categories", audience.categories),
            ("agencies", audience.agencies),
        ]
    for field, values in dimensions:
        distinct = list(dict.fromkeys(values))
        if len(distinct) == 1 and field in SCALAR_FIELDS:
            query[field] = distinct[0]
        elif distinct:
            query[field] = {"$in": distinct}
    return query


def audience_platforms(audience: Audience) -> list[str]:
    """The platforms the audience may reach: those it names, else every loaded platform."""
    return list(audience.platforms) or push_platforms().names


def audience_languages(audience: Audience) -> list[str]:
    """The device languages the audience may reach."""
    return list(audience.languages) or list(LANGUAGES)
