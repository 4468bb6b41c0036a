"""``/health/live`` (the process answers) and ``/health/ready`` (MongoDB and Redis answer)."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from pydantic import BaseModel

from gnews.core.persistence import ping_mongodb, ping_redis


class HealthOut(BaseModel):
    """``status`` is ``ok``/``ready`` or ``unavailable``; ``checks`` says what is down and why."""

    status: str
    checks: dict[str, str] = {}


class HealthController(Controller):
    """Probes for load balancers and orchestrators; never cached, never authenticated."""

    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up", cache_control=None)
    async def live(self) -> HealthOut:
        """Always 200 while the process serves requests."""
        return HealthOut(status="ok")

    @get(
        "/ready",
        summary="MongoDB and Redis answer",
        responses={
            503: ResponseSpec(
                data_container=HealthOut,
                description="MongoDB or Redis is down (`checks` says which, and why)",
                generate_examples=False,
                examples=[
                    Example(
                        summary="unavailable",
                        value={
                            "status": "unavailable",
                            "checks": {"mongodb": "ok", "redis": "connection refused"},
                        },
                    )
                ],
            )
        },
    )
    async def ready(self, state: State) -> Response[HealthOut]:
        """200 when both answer a ping, else 503 naming what is down."""
        mongodb, redis = await asyncio.gather(
            ping_mongodb(state.mongo_client), ping_redis(state.redis)
        )
        if mongodb is None and not state.documents_ready.is_set():
            mongodb = "reachable but not initialised yet"
        checks = {"mongodb": mongodb or "ok", "redis": redis or "ok"}
        down = [name for name, error in (("mongodb", mongodb), ("redis", redis)) if error]
        return Response(
            HealthOut(status="unavailable" if down else "ready", checks=checks),
            status_code=503 if down else 200,
            headers={"Cache-Control": "no-store"},
        )
