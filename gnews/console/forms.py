"""Console forms: parsed by the API's own input models, errors shown next to their fields.

A page handler reads the form, :func:`parse_form` validates it with the same pydantic model the
API uses (so a rule lives in one place), calls the service, and on :class:`FormInvalid` or a
:class:`~gnews.core.errors.DomainError` re-renders the form with :func:`errors_of` — a message
per field name (``""`` for the form as a whole) — and the values as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gnews.core.errors import DomainError

M = TypeVar("M", bound=BaseModel)

FORM_FIELD = ""  # the key of an error about the whole form


class FormInvalid(Exception):
    """The form's values did not validate: ``fields`` maps each field to its message."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = dict(fields)


def form_values(form: Mapping[str, Any], *, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The submitted values without the CSRF token, blanks as absent; ``lists`` are fields
    sent as several values (checkboxes, multi-selects) or one comma-separated text."""
    values: dict[str, Any] = {}
    for key in form:
        if key == "_csrf_token":
            continue
        if key in lists:
            raw = form.getall(key) if hasattr(form, "getall") else form[key]
            items = raw if isinstance(raw, list) else [raw]
            values[key] = [p.strip() for item in items for p in str(item).split(",") if p.strip()]
            continue
        value = form[key]
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        values[key] = value
    for key in lists:
        values.setdefault(key, [])
    return values


def parse_form(model: type[M], values: Mapping[str, Any]) -> M:
    """``values`` validated by ``model``; :class:`FormInvalid` naming each bad field."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        raise FormInvalid(_validation_fields(error)) from None


def errors_of(error: FormInvalid | DomainError) -> dict[str, str]:
    """Field → message of a form's failure (``""``: about the whole form)."""
    if isinstance(error, FormInvalid):
        return error.fields
    return error.fields or {FORM_FIELD: error.message}


def _validation_fields(error: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]) or FORM_FIELD
        message = problem["msg"]
        if problem["type"] == "missing":
            message = "required"
        fields.setdefault(name, message)
    return fields
