"""The device document: one install of the G-News app, by push token.

Devices are the big collection (millions). The push fan-out streams active devices by province
and platform with a cursor and a small projection, hence the indexes. A push token belongs to one
device: that uniqueness lives in its own collection keyed by the token (:class:`PushToken`), so
it holds when ``devices`` is sharded by hashed ``_id`` (a unique index on ``devices`` would have
to start with the shard key). References are plain strings (province and agency codes, category
codes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from gnews.core.clock import utcnow


class Device(Document):
    """An install of the app: where to push, what it follows, and its secret's hash."""

    platform: str  # a push platform's name (gnews.devices.platforms): android, ios, huawei…
    push_token: str
    provinces: list[str] = Field(default_factory=list)  # codes; empty = follows no province
    categories: list[str] = Field(default_factory=list)  # category codes
    agencies: list[str] = Field(default_factory=list)  # agency codes
    language: Literal["th", "en"] = "th"
    app_version: str | None = None
    secret_hash: str  # sha256 hex of the device secret (256 random bits, shown once)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "devices"
        # MongoDB's indexes: the fan-out streams an audience in _id order, so each audience
        # dimension's index ends in _id (the embedded server's variant:
        # gnews.core.persistence.indexes).
        indexes = [
            # Not unique (see PushToken): finds devices registered before push_tokens existed.
            IndexModel([("push_token", ASCENDING)]),
            IndexModel([("active", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("active", ASCENDING), ("platform", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("active", ASCENDING), ("provinces", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("active", ASCENDING), ("categories", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("active", ASCENDING), ("agencies", ASCENDING), ("_id", ASCENDING)]),
        ]


class PushToken(Document):
    """Which device holds a push token: ``_id`` is the token, so the database keeps each token
    on one device, also with ``devices`` sharded (``push_tokens`` shards by ``_id``).

    Registration claims the token here first, then writes the device; a claim left by a
    registration that died in between points at no device and is taken over by the next one.
    """

    id: str = Field(alias="_id")  # type: ignore[assignment]
    device_id: str  # hex id of the device
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "push_tokens"
