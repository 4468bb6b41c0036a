"""MongoDB (beanie documents over pymongo's async client) and Redis connections.

Writes go through :mod:`gnews.core.persistence.updates` (re-exported here): guarded partial
updates and validated inserts, whichever server is behind the client.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from arq.connections import ArqRedis
from beanie import Document, PydanticObjectId, init_beanie
from bson.errors import InvalidId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError

from gnews.core.persistence import embedded
from gnews.core.persistence.backfill import backfill_derived_fields
from gnews.core.persistence.clock import database_now
from gnews.core.persistence.indexes import IndexBuildError, build_indexes
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
    "update_many",
    "update_one",
    "validate_document",
]

log = structlog.get_logger(__name__)

INIT_RETRY_SECONDS = 2.0


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


_embedded: bool | None = None


def on_embedded_server() -> bool:
    """True when the database is nx-27017, the embedded server (found once by
    :func:`init_documents`); the query-shape helpers of this package choose by it."""
    return bool(_embedded)


async def init_documents(
    client: AsyncMongoClient,
    db_name: str,
    models: Sequence[type[Document]],
    on_ready: Callable[[], Awaitable[None]] | None = None,
    *,
    build: bool = True,
) -> asyncio.Task[None] | None:
    """Bind the beanie documents to the database; with ``build``, build their indexes
    (:mod:`.indexes`) and fill in derived fields older documents lack (:mod:`.backfill`).

    beanie needs a reachable server to initialise. When MongoDB is unreachable at start-up the
    process still starts: a background task retries until MongoDB is back, and until then
    requests that need it answer 503 (beanie raises ``CollectionWasNotInitialized``). Returns
    that task, or None when initialisation succeeded now. ``on_ready`` is awaited once
    initialised. An index that cannot be built is no outage: :class:`.IndexBuildError`
    propagates (logged with the index and the reason), and the process must stop.
    """
    database = client[db_name]
    try:
        await _initialise(database, models, build)
    except (ConnectionFailure, ServerSelectionTimeoutError) as error:
        log.warning("mongodb unreachable at start-up; retrying in the background", error=str(error))
        return asyncio.create_task(_init_when_reachable(database, models, on_ready, build))
    if on_ready is not None:
        await on_ready()
    return None


async def _initialise(
    database: AsyncDatabase[Any], models: Sequence[type[Document]], build: bool
) -> None:
    global _embedded
    _embedded = await embedded.detect(database.client)
    if _embedded:
        embedded.adapt_indexes(models)  # partial unique indexes get their embedded variant
    await init_beanie(database=database, document_models=list(models), skip_indexes=True)
    if build:
        await build_indexes(database, models, embedded=_embedded)
        await backfill_derived_fields(models)


async def _init_when_reachable(
    database: AsyncDatabase[Any],
    models: Sequence[type[Document]],
    on_ready: Callable[[], Awaitable[None]] | None,
    build: bool,
) -> None:
    while True:
        await asyncio.sleep(INIT_RETRY_SECONDS)
        try:
            await _initialise(database, models, build)
        except (ConnectionFailure, ServerSelectionTimeoutError):
            continue
        except IndexBuildError:
            # Already logged with the index and the reason; serving without it is wrong.
            log.critical("stopping: an index could not be built")
            os.kill(os.getpid(), signal.SIGTERM)
            return
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
