"""HTTP rules every route follows: ``HEAD`` answers like ``GET`` without the body, and a body
sent to a JSON route must be JSON (415 otherwise, before anything parses it)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import HTTPException
from litestar.params import BodyKwarg
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

JSON_MEDIA_TYPE = "application/json"


class UnsupportedMediaTypeError(HTTPException):
    """415: the body is not JSON."""

    status_code = 415


def answer_head_as_get(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` so that ``HEAD`` runs the ``GET`` handler of the path and sends its status
    and headers (``Content-Length``, ``ETag``, … as ``GET`` would) but no body (RFC 9110 §9.3.2)."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        get_scope: HTTPScope = {**scope, "method": "GET"}
        await app(get_scope, receive, send_without_body)

    return handle


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type, whatever its parameters (``charset=utf-8``)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == JSON_MEDIA_TYPE or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _takes_json_body(request: Request[Any, Any, Any]) -> bool:
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    kwarg = data.kwarg_definition
    media_type = kwarg.media_type if isinstance(kwarg, BodyKwarg) else RequestEncodingType.JSON
    return media_type in (RequestEncodingType.JSON, JSON_MEDIA_TYPE)


def _has_body(request: Request[Any, Any, Any]) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


def refuse_non_json_body(request: Request[Any, Any, Any]) -> None:
    """415 when a route that reads a JSON body receives a body of another media type (or of
    none named); an absent body is left to the route (required bodies answer 422)."""
    if not _has_body(request) or not _takes_json_body(request):
        return
    content_type = request.headers.get("content-type", "")
    if not is_json_media_type(content_type):
        shown = content_type.split(";", 1)[0].strip() or "none"
        raise UnsupportedMediaTypeError(
            f"send the body as application/json (Content-Type: {shown})"
        )
