"""Structured logging: JSON lines in production, readable lines in development.

Every log line written while a request is served carries its ``request_id``; the standard
library's loggers (uvicorn, arq, pymongo) go through the same formatter.
"""

from __future__ import annotations

import logging
import time
import uuid

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import Processor

from gnews.core.errors import REQUEST_ID_HEADER

access_log = structlog.get_logger("gnews.access")


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    """Route structlog and stdlib logging through one formatter (call once per process)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        # Plain tracebacks: rich ones print local variables, bearer tokens among them.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info if json else (lambda _l, _m, e: e),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Our own access log replaces uvicorn's; pymongo's heartbeat chatter is not news.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("pymongo").setLevel(logging.WARNING)
    # arq logs the start and end of every job; its cron jobs (the reconciler every 15 s, the
    # poll scheduler every minute) would fill the log. Their failures (ERROR) still show, and
    # the jobs log themselves when they did something.
    logging.getLogger("arq.worker").addFilter(_quiet_cron_runs)


def _quiet_cron_runs(record: logging.LogRecord) -> bool:
    """Drop arq's INFO lines about cron job runs (``→``/``←`` of ``cron:…`` jobs)."""
    if record.levelno > logging.INFO or not isinstance(record.args, tuple):
        return True
    return not any(isinstance(arg, str) and arg.startswith("cron:") for arg in record.args)


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Give each HTTP request an id (``X-Request-ID``, taken from the client if sane), bind it
    to every log line, echo it in the response and write one access-log line."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                name = REQUEST_ID_HEADER.lower().encode()
                if not any(key.lower() == name for key, _ in headers):
                    headers.append((name, request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")

    return middleware


def _incoming_request_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            text = value.decode("latin-1")
            if 0 < len(text) <= 128 and text.isascii() and text.replace("-", "").isalnum():
                return text
    return None
