"""MongoDB (beanie documents over pymongo's async client) and Redis connections.

Writes go through :mod:`gnews.core.persistence.updates` (re-exported here): guarded partial
updates and validated inserts, whichever server is behind the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import structlog
from arq.connections import ArqRedis
from beanie import Document, PydanticObjectId, init_beanie
from bson.errors import InvalidId
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from gnews.core.persistence import embedded
from gnews.core.persistence.clock import database_now
from gnews.core.persistence.updates import (
    Each,
    InsertOutcome,
    InvalidDocument,
    UpdateConflict,
    find_one_and_update,
    insert,
    insert_many,
    is_duplicate_key,
    update_many,
    update_one,
    validate_document,
)

__all__ = [
    "Each",
    "InsertOutcome",
    "InvalidDocument",
    "UpdateConflict",
    "database_now",
    "find_one_and_update",
    "init_documents",
    "insert",
    "insert_many",
    "is_duplicate_key",
    "mongo_client",
    "object_id",
    "ping_mongodb",
    "ping_redis",
    "redis_client",
    "store_changes",
    "update_many",
    "update_one",
    "validate_document",
]

log = structlog.get_logger(__name__)

INIT_RETRY_SECONDS = 2.0

D = TypeVar("D", bound=Document)


def object_id(value: str) -> PydanticObjectId | None:
    """``value`` as an ObjectId, or None when it is not one."""
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError):
        return None


def mongo_client(uri: str, *, timeout_ms: int = 2000) -> AsyncMongoClient:
    """A client that fails fast (``timeout_ms``) when MongoDB is down and reconnects by itself."""
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms * 5, 10_000),
        uuidRepresentation="standard",
    )


async def init_documents(
    client: AsyncMongoClient,
    db_name: str,
    models: Sequence[type[Document]],
    on_ready: Callable[[], Awaitable[None]] | None = None,
) -> asyncio.Task[None] | None:
    """Bind the beanie documents to the database and create their indexes.

    beanie needs a reachable server to initialise. When MongoDB is down at start-up the process
    still starts: a background task retries until MongoDB is back, and until then requests that
    need it answer 503 (beanie raises ``CollectionWasNotInitialized``). Returns that task, or
    None when initialisation succeeded now. ``on_ready`` is awaited once initialised.
    """
    database = client[db_name]
    try:
        if await embedded.detect(client):
            embedded.adapt_indexes(models)
        await init_beanie(database=database, document_models=list(models))
    except PyMongoError as error:
        log.warning("mongodb unavailable at start-up; retrying in the background", error=str(error))
        return asyncio.create_task(_init_when_reachable(database, models, on_ready))
    if on_ready is not None:
        await on_ready()
    return None


async def _init_when_reachable(
    database, models: Sequence[type[Document]], on_ready: Callable[[], Awaitable[None]] | None
) -> None:
    while True:
        await asyncio.sleep(INIT_RETRY_SECONDS)
        try:
            if await embedded.detect(database.client):
                embedded.adapt_indexes(models)
            await init_beanie(database=database, document_models=list(models))
        except PyMongoError:
            continue
        log.info("mongodb reachable; documents initialised")
        if on_ready is not None:
            await on_ready()
        return


def redis_client(url: str, *, timeout_seconds: float = 2.0) -> ArqRedis:
    """One Redis client for caching, rate limits and enqueueing arq jobs (connects lazily)."""
    return ArqRedis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        health_check_interval=30,
    )


async def ping_mongodb(client: AsyncMongoClient) -> str | None:
    """None when MongoDB answers a ping, else the reason it does not."""
    try:
        await client.admin.command("ping")
    except PyMongoError as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    return None


async def ping_redis(redis: ArqRedis) -> str | None:
    """None when Redis answers a ping, else the reason it does not."""
    try:
        await redis.ping()
    except Exception as error:  # redis raises ConnectionError, TimeoutError, OSError…
        return f"{type(error).__name__}: {str(error)[:200]}"
    return None


async def store_changes(document: D, changes: Mapping[str, Any], *, reload: bool = False) -> D:
    """Apply ``changes`` (field → value) to ``document`` and store the whole document.

    Every partial update of a stored document goes through here. Not ``$set``: nx-27017, the
    embedded server, stores a datetime written with ``$set`` as a string, which breaks every
    later date comparison; a whole-document replace keeps real dates on it and on MongoDB.
    With ``reload=True`` the document is re-read first, so a writer holding an old copy
    (e.g. a poll that took a minute) does not undo other fields changed meanwhile.
    """
    if reload:
        fresh = await type(document).get(document.id)
        if fresh is None:
            return document
        document = fresh
    for field, value in changes.items():
        setattr(document, field, value)
    await document.replace()
    return document
