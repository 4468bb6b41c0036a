"""Bases and small models shared by the API's input and output schemas."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class NoNullsPatch(BaseModel):
    """A patch: omitted fields stay as they are; ``null`` is refused (422 naming the field)
    except for the fields in :attr:`nullable_fields`, where it clears an optional value.

    Every PATCH body of the API derives from this, so a field added later is covered too.
    """

    model_config = ConfigDict(extra="forbid")

    nullable_fields: ClassVar[frozenset[str]] = frozenset()
    """Fields for which ``null`` is a value (it clears them)."""

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable_fields:
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


class ReasonIn(BaseModel):
    """Why a news item or an app listing is rejected, withdrawn or delisted (shown to its agency
    or developer)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class UntilIn(BaseModel):
    """Until when (timezone-aware, in the future, at most 30 days ahead)."""

    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime = Field(examples=["2026-12-01T00:00:00+07:00"])
