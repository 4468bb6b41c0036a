"""The two languages of the citizen API (Thai and English) and how a response picks one.

Content (news items, agency feeds) is written in one language; what the API localises is what
it names itself: provinces, agencies, categories and notification texts. A response's language
is, in order: an explicit ``lang`` query parameter, the ``Accept-Language`` header (its
highest-weighted ``th`` or ``en``), a device's own setting where there is a device, else Thai.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["th", "en"]
LANGUAGES: tuple[Language, ...] = ("th", "en")
DEFAULT_LANGUAGE: Language = "th"


def accepted_language(header: str | None) -> Language | None:
    """The supported language ``Accept-Language`` prefers most, or None when it names neither.

    ``"en-US,en;q=0.9,th;q=0.8"`` gives ``"en"``; ``"th-TH"`` gives ``"th"``; ``q=0`` excludes a
    language; malformed parts are skipped. Equal weights keep the header's order.
    """
    if not header:
        return None
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate(header.split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        primary = tag.split("-")[0].casefold()
        if primary not in LANGUAGES:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().casefold() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight <= 0:
            continue
        candidate = (-weight, position, primary)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None


def choose_language(
    explicit: str | None, accept_language: str | None, fallback: str | None = None
) -> Language:
    """The language of a response: ``explicit`` (``lang``), else ``Accept-Language``, else
    ``fallback`` (e.g. a device's setting), else Thai."""
    for candidate in (explicit, accepted_language(accept_language), fallback):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def pick(language: str, thai: str, english: str | None) -> str:
    """``english`` for an English response when there is one, else ``thai``."""
    return english if language == "en" and english else thai
