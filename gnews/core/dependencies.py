"""Dependencies the API's handlers share, injected by Litestar (``Provide``), not read from
globals: the Redis client (``redis``) the application opened at start-up."""

from __future__ import annotations

from arq.connections import ArqRedis
from litestar.datastructures import State
from litestar.di import NamedDependency

RedisClient = NamedDependency[ArqRedis]
"""A handler parameter ``redis: RedisClient`` receives the application's Redis client (for the
response cache, and to enqueue jobs)."""


def provide_redis(state: State) -> ArqRedis:
    """Dependency ``redis``: the client opened by the application's lifespan."""
    return state.redis
