"""Bases shared by the API's input and output schemas."""

from __future__ import annotations

from typing import Any

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
