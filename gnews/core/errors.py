"""One error body for every error the API returns, and the exceptions that map onto it.

Every error is ``{"error": {"status", "code", "message", "fields"?, "request_id"}}``: a client
reads ``code`` (stable, machine-readable), shows ``message``, and for 422 lists ``fields``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from beanie.exceptions import CollectionWasNotInitialized
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gnews.core.persistence.updates import InvalidDocument

log = structlog.get_logger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class DomainError(Exception):
    """A rule of the domain said no. Services raise these (never Litestar's exceptions);
    :func:`handle_domain_error` is the one place that turns them into HTTP answers."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


class UnauthorizedError(DomainError):
    """401: the caller could not be identified (wrong password, bad credentials)."""

    status_code = 401


class ForbiddenError(DomainError):
    """403: the caller is known but may not do this."""

    status_code = 403


class NotFoundError(DomainError):
    """404: no such record, or one the caller may not know exists."""

    status_code = 404


class ConflictError(DomainError):
    """409: the request clashes with existing data (a duplicate e-mail, code, slug…)."""

    status_code = 409


class FieldError(DomainError):
    """422 naming the offending field, for checks pydantic cannot do (e.g. an unknown agency)."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", fields={field: message})

    @classmethod
    def many(cls, errors: Mapping[str, str]) -> FieldError:
        """One 422 naming every field of ``errors`` (field → message)."""
        first, message = next(iter(errors.items()))
        error = cls(first, message)
        error.fields = dict(errors)
        error.message = "; ".join(f"{field}: {text}" for field, text in errors.items())
        error.args = (error.message,)
        return error


class ServiceUnavailableError(DomainError):
    """503: a backing service (MongoDB, Redis) is down; the client may retry later."""

    status_code = 503


def request_id_of(request: Request) -> str:
    """The id of this request (set by the request-context middleware, or a new one)."""
    state = request.scope.setdefault("state", {})
    return state.setdefault("request_id", uuid.uuid4().hex)


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    code: str | None = None,
    fields: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """Build the one error body shape."""
    request_id = request_id_of(request)
    body: dict[str, Any] = {
        "status": status,
        "code": code or _CODES.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_")),
        "message": message,
        "request_id": request_id,
    }
    if fields:
        body["fields"] = fields
    return Response(
        {"error": body},
        status_code=status,
        headers={**(headers or {}), REQUEST_ID_HEADER: request_id},
    )


def _fields_of(extra: Any) -> list[dict[str, Any]]:
    if not isinstance(extra, list):
        return []
    fields = []
    for item in extra:
        if isinstance(item, dict) and ("key" in item or "message" in item):
            message = str(item.get("message", "")).removeprefix("Value error, ")
            field = {"field": item.get("key") or "", "message": message}
            if item.get("source"):
                source = item["source"]
                field["source"] = str(getattr(source, "value", source))
            fields.append(field)
    return fields


def handle_http_exception(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    """Litestar's own and our HTTP exceptions; request-data validation becomes 422."""
    status = exc.status_code
    fields = _fields_of(exc.extra)
    message = exc.detail or HTTPStatus(status).phrase
    if isinstance(exc, ValidationException) or (status == 400 and fields):
        status = 422
        message = (
            "invalid " + ", ".join(f["field"] or "request" for f in fields) if fields else message
        )
    headers = dict(exc.headers or {})
    return error_response(request, status, message, fields=fields or None, headers=headers)


def handle_invalid_document(request: Request, exc: InvalidDocument) -> Response[dict[str, Any]]:
    """A write the model could not load back was refused (nothing stored): 422 naming the fields."""
    fields = [{"field": path, "message": reason} for path, reason in exc.errors.items()]
    message = "invalid " + ", ".join(exc.errors)
    return error_response(request, 422, message, fields=fields)


def handle_domain_error(request: Request, exc: DomainError) -> Response[dict[str, Any]]:
    """A domain error: its status, its message, the fields it names."""
    fields = [{"field": field, "message": text} for field, text in exc.fields.items()]
    return error_response(
        request, exc.status_code, exc.message, fields=fields or None, headers=exc.headers
    )


def handle_duplicate_key(request: Request, exc: DuplicateKeyError) -> Response[dict[str, Any]]:
    """A unique index said no: the thing already exists."""
    return error_response(request, 409, "a record with the same unique value already exists")


MONGODB_DOWN = "the database (MongoDB) is unavailable; retry shortly"
RETRY_AFTER = {"Retry-After": "5"}


def handle_mongodb_down(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    """MongoDB unreachable (or not yet initialised): 503, the client may retry."""
    log.warning(
        "mongodb unavailable", error=(str(exc).splitlines() or [type(exc).__name__])[0][:200]
    )
    return error_response(request, 503, MONGODB_DOWN, headers=RETRY_AFTER)


def handle_mongodb_error(request: Request, exc: PyMongoError) -> Response[dict[str, Any]]:
    """Other MongoDB errors: connection trouble is a 503, anything else a logged 500."""
    if isinstance(exc, ConnectionFailure):
        return handle_mongodb_down(request, exc)
    return handle_unexpected(request, exc)


def handle_redis_down(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    """Redis unreachable: 503, the client may retry."""
    log.warning("redis unavailable", error=str(exc)[:200])
    return error_response(
        request,
        503,
        "the queue/cache (Redis) is unavailable; retry shortly",
        headers=RETRY_AFTER,
    )


def handle_unexpected(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    """A bug: log it with its traceback, tell the client only the request id."""
    log.exception("unhandled error", path=request.url.path, exc_info=exc)
    return error_response(request, 500, "internal error; quote the request id when reporting it")


EXCEPTION_HANDLERS = {
    HTTPException: handle_http_exception,
    InvalidDocument: handle_invalid_document,
    DomainError: handle_domain_error,
    DuplicateKeyError: handle_duplicate_key,
    CollectionWasNotInitialized: handle_mongodb_down,
    PyMongoError: handle_mongodb_error,
    RedisConnectionError: handle_redis_down,
    RedisTimeoutError: handle_redis_down,
    Exception: handle_unexpected,
}
