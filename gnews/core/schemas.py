"""Bases shared by the API's input and output schemas."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, field_validator


class NoNullsPatch(BaseModel):
    """A patch: omitted fields stay as they are; ``null`` is refused (these fields need a value)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class DocumentOut(BaseModel):
    """An output schema read off a stored document: the fields both share are copied, and an
    ``id`` field (when the schema has one) is the document's id as a string."""

    @classmethod
    def from_document(cls, document: Any, **values: Any) -> Self:
        """Convert ``document``; ``values`` set fields the document does not have (or overrides)."""
        fields = set(cls.model_fields)
        copied = document.model_dump(include=fields - {"id"} - set(values))
        if "id" in fields and "id" not in values:
            copied["id"] = str(document.id)
        return cls(**copied, **values)
