"""The OpenAPI document, made true in one place rather than in every controller.

Litestar generates an operation per route handler; :class:`ContractPlugin` completes each one
from what the handler itself says:

* **operation ids** from the handler's name in camelCase (``list_news`` → ``listNews``); when two
  handlers share a name, each is qualified by the resource its path names (``approveItem``,
  ``approveListing``). A handler's own ``operation_id=`` wins.
* **error responses** in the one error shape (:class:`gnews.core.errors.ErrorBody`), worked out
  from the handler: its guards and dependencies declare what they answer with (:func:`answers`:
  401/403 for credentials and roles, 429 for rate limits), a path parameter means 404, any
  parameter or body 422, a body also 400 (malformed JSON), 413 and 415, a write 409, a route
  that needs the database 503. Litestar's own ``400 {status_code, detail, extra}`` placeholder is
  dropped, and a handler's ``raises=[...]`` adds those statuses. ``responses=`` on a handler wins
  over these defaults for its status codes.
* ``Retry-After`` on 429 and 503, ``WWW-Authenticate`` on 401; a request body that the handler
  does not need (``data: X | None = None``) is documented as optional; no random generated
  examples (the document is the same on every start).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Example,
    OpenAPIHeader,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import InitPlugin
from litestar.plugins.base import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.types.internal_types import PathParameterDefinition

from gnews.core.errors import NEEDS_DATABASE, ErrorBody

F = TypeVar("F", bound=Callable[..., Any])

ANSWERS_ATTRIBUTE = "gnews_answers"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Signature names Litestar fills itself (not client parameters).
_RESERVED_PARAMETERS = frozenset(
    {"request", "state", "scope", "socket", "headers", "cookies", "query", "body", "data"}
)

_DESCRIPTIONS = {
    400: "The body is not well-formed JSON.",
    401: "No credentials, or wrong, expired or revoked ones (`WWW-Authenticate` says which "
    "scheme).",
    403: "The caller's role or credential type may not do this.",
    404: "Nothing at this path that the caller may see (another agency's or device's "
    "resources are answered the same way).",
    409: "Clashes with the current state (e.g. not a draft any more) or with an existing "
    "record (a duplicate code, e-mail, slug or push token).",
    413: "The body is larger than the configured limit.",
    415: "The body is not `application/json`.",
    422: "A parameter or a field of the body is invalid; `fields` names each one.",
    429: "Too many requests from this client; retry after `Retry-After` seconds.",
    503: "MongoDB or Redis is unavailable; retry after `Retry-After` seconds.",
}

_EXAMPLE_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Malformed JSON body"),
    401: ("unauthorized", "invalid or expired token"),
    403: ("forbidden", "requires role: admin, editor"),
    404: ("not_found", "no such device"),
    409: ("conflict", "a record with the same unique value already exists"),
    413: ("payload_too_large", "Request Entity Too Large"),
    415: (
        "unsupported_media_type",
        "send the body as application/json (Content-Type: text/plain)",
    ),
    422: ("validation_error", "invalid provinces"),
    429: ("rate_limited", "too many requests; retry in 42 s"),
    503: ("service_unavailable", "the database (MongoDB) is unavailable; retry shortly"),
}


def answers(*statuses: int) -> Callable[[F], F]:
    """Declare the error statuses a guard or dependency provider can answer with, so the
    OpenAPI document lists them on every route that uses it."""

    def mark(function: F) -> F:
        setattr(function, ANSWERS_ATTRIBUTE, (*getattr(function, ANSWERS_ATTRIBUTE, ()), *statuses))
        return function

    return mark


def error_example(status: int) -> dict[str, Any]:
    """A realistic error body for ``status`` (the shape every error of the API has)."""
    code, message = _EXAMPLE_MESSAGES[status]
    error: dict[str, Any] = {
        "status": status,
        "code": code,
        "message": message,
        "request_id": "5f0c6c1e9d4b4f7a8a2d3c4b5a697887",
    }
    if status == 422:
        error["fields"] = [
            {"field": "provinces", "message": "item 0: unknown province code 'TH-99'"}
        ]
    return {"error": error}


def error_response_spec(status: int) -> ResponseSpec:
    """The documented response for an error ``status``: the one error body, with an example."""
    return ResponseSpec(
        data_container=ErrorBody,
        description=_DESCRIPTIONS[status],
        generate_examples=False,
        examples=[Example(summary=_EXAMPLE_MESSAGES[status][0], value=error_example(status))],
    )


# -- what a handler can answer ----------------------------------------------------------------


def _declared(callable_: object) -> tuple[int, ...]:
    return tuple(getattr(callable_, ANSWERS_ATTRIBUTE, ()))


def _dependency_answers(
    names: Iterable[str], dependencies: dict[str, Provide], seen: set[str]
) -> Iterator[int]:
    for name in names:
        provider = dependencies.get(name)
        if provider is None or name in seen:
            continue
        seen.add(name)
        yield from _declared(provider.dependency)
        yield from _dependency_answers(provider.parsed_fn_signature.parameters, dependencies, seen)


def _data_field(handler: HTTPRouteHandler) -> Any:
    return handler.parsed_fn_signature.parameters.get("data")


def _takes_parameters(handler: HTTPRouteHandler, route: HTTPRoute) -> bool:
    if route.path_parameters:
        return True
    dependencies = handler.resolve_dependencies()
    return any(
        name not in _RESERVED_PARAMETERS and name not in dependencies
        for name in handler.parsed_fn_signature.parameters
    )


def error_statuses(handler: HTTPRouteHandler, route: HTTPRoute) -> set[int]:
    """Every error status ``handler`` can answer with on ``route`` (see the module docstring)."""
    statuses: set[int] = set()
    for guard in handler.resolve_guards():
        statuses.update(_declared(guard))
    statuses.update(
        _dependency_answers(
            handler.parsed_fn_signature.parameters, handler.resolve_dependencies(), set()
        )
    )
    if handler.resolve_security():
        statuses.add(401)
    if route.path_parameters:
        statuses.add(404)
    if _takes_parameters(handler, route):
        statuses.add(422)
    if _data_field(handler) is not None:
        statuses.update({400, 413, 415, 422})
    if handler.http_methods & WRITE_METHODS:
        statuses.add(409)
    if handler.opt.get(NEEDS_DATABASE):  # merged from its layers on registration
        statuses.add(503)
    for exception in handler.raises or ():  # Litestar's or our domain errors: a status_code
        status = getattr(exception, "status_code", None)
        if status in _DESCRIPTIONS:
            statuses.add(status)
    return statuses


# -- operation ids ------------------------------------------------------------------------------


def _words(name: str) -> list[str]:
    return [word for word in re.split(r"[_\W]+", name) if word]


def _camel(words: list[str]) -> str:
    return words[0].lower() + "".join(word[:1].upper() + word[1:] for word in words[1:])


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "news")):
        return word[:-1]
    return word


def _qualifier(path_components: list[str | PathParameterDefinition]) -> str:
    """The resource a path names: the segment before its last parameter, else its area (the
    first segment after ``/api/v<n>``), singular."""
    static: list[str] = []
    resource = ""
    for component in path_components:
        if isinstance(component, PathParameterDefinition):
            resource = static[-1] if static else resource
        else:
            static.extend(
                w for w in _words(component) if w != "api" and not re.fullmatch(r"v\d+", w)
            )
    return _singular(resource or (static[0] if static else ""))


# Handler names that say what is done but not to what: always qualified by the resource.
GENERIC_NAMES = frozenset(
    {"create", "update", "delete", "get", "list", "cancel", "preview", "submit", "pin", "unpin",
     "notify", "delist", "relist", "opened", "queue"}
)  # fmt: skip


def operation_id_for(
    handler_name: str,
    path_components: list[str | PathParameterDefinition],
    *,
    shared: bool,
) -> str:
    """``handler_name`` in camelCase; when the name is ``shared`` with another handler or is
    generic (``update``), the path's resource follows its verb (``approve`` on
    ``/editorial/items/{id}/approve`` → ``approveItem``)."""
    words = _words(handler_name)
    if (shared or handler_name in GENERIC_NAMES) and (qualifier := _qualifier(path_components)):
        words = [words[0], *_words(qualifier), *words[1:]]
    return _camel(words)


# -- the operation, completed -------------------------------------------------------------------


def _is_litestar_placeholder(response: OpenAPIResponse | Reference) -> bool:
    """Litestar's generated ``{status_code, detail, extra}`` error (not what the API sends)."""
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    for media in response.content.values():
        schema = media.schema
        if isinstance(schema, Schema):
            candidates = [schema, *(s for s in schema.one_of or () if isinstance(s, Schema))]
            if any({"status_code", "detail"} <= set(c.properties or {}) for c in candidates):
                return True
    return False


def _header(description: str, type_: OpenAPIType = OpenAPIType.STRING) -> OpenAPIHeader:
    return OpenAPIHeader(description=description, schema=Schema(type=type_))


_ERROR_HEADERS = {
    "401": {"WWW-Authenticate": _header("the scheme to authenticate with (`Bearer`, `Device`)")},
    "429": {"Retry-After": _header("seconds until a retry may succeed", OpenAPIType.INTEGER)},
    "503": {"Retry-After": _header("seconds until a retry may succeed", OpenAPIType.INTEGER)},
}


def complete_operation(operation: Operation, *, body_optional: bool) -> None:
    """What Litestar cannot be told per handler: drop its placeholder errors, add the
    headers of 401/429/503, and mark a body the handler does not need as optional."""
    responses = {
        status: response
        for status, response in sorted((operation.responses or {}).items())
        if not _is_litestar_placeholder(response)
    }
    operation.responses = responses
    for status, headers in _ERROR_HEADERS.items():
        response = responses.get(status)
        if isinstance(response, OpenAPIResponse):
            response.headers = {**(response.headers or {}), **headers}
    for parameter in operation.parameters or ():
        if isinstance(parameter, Parameter) and parameter.schema is not None:
            parameter.schema = _without_null(parameter.schema)
    if body_optional and operation.request_body is not None:
        request_body = operation.request_body
        if not isinstance(request_body, Reference):
            request_body.required = False
            for media in request_body.content.values():
                if media.schema is not None:
                    media.schema = _without_null(media.schema)


def _without_null(schema: Schema | Reference) -> Schema | Reference:
    """``X | None`` where null cannot be sent: a query parameter (absent means none) or an
    optional body (absent, not ``null``). The schema becomes X, keeping the constraints Litestar
    put beside the ``oneOf`` (``minimum``, ``pattern``, …), so generated clients get a plain
    typed argument and the limits apply."""
    if not isinstance(schema, Schema):
        return schema
    if isinstance(schema.type, list) and OpenAPIType.NULL in schema.type:
        rest = [t for t in schema.type if t != OpenAPIType.NULL]
        enum = [v for v in schema.enum] if schema.enum is not None else None
        return dataclasses.replace(
            schema,
            type=rest[0] if len(rest) == 1 else rest,
            enum=[v for v in enum if v is not None] if enum is not None else None,
        )
    if not schema.one_of:
        return schema
    rest = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
    if len(rest) != 1 or len(rest) == len(schema.one_of):
        return schema
    (only,) = rest
    beside = {
        field.name: value
        for field in dataclasses.fields(schema)
        if field.name != "one_of" and (value := getattr(schema, field.name)) is not None
    }
    if isinstance(only, Reference):
        constraints = set(beside) - {"description", "examples", "default"}
        return only if not constraints else schema
    return dataclasses.replace(only, **beside)


def _operation_class(*, body_optional: bool) -> type[Operation]:
    @dataclasses.dataclass
    class CompletedOperation(Operation):
        def __post_init__(self) -> None:
            complete_operation(self, body_optional=body_optional)

    return CompletedOperation


_OPERATION_CLASSES = {flag: _operation_class(body_optional=flag) for flag in (False, True)}


def _body_is_optional(handler: HTTPRouteHandler) -> bool:
    field = _data_field(handler)
    return field is not None and (field.is_optional or field.has_default)


class ContractPlugin(InitPlugin, ReceiveRoutePlugin):
    """Completes every operation of the OpenAPI document (see the module docstring)."""

    def __init__(self) -> None:
        self._names: Counter[str] = Counter()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Use this plugin's operation ids and the handlers' docstrings as descriptions."""
        if app_config.openapi_config is not None:
            app_config.openapi_config.operation_id_creator = self.operation_id
            app_config.openapi_config.use_handler_docstrings = True
        return app_config

    def receive_route(self, route: BaseRoute) -> None:
        """Give each handler of ``route`` its error responses and operation class."""
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            self._names[handler.handler_name] += 1
            own = {
                status: dataclasses.replace(spec, generate_examples=False)
                for status, spec in (handler.responses or {}).items()
            }
            defaults = {
                status: error_response_spec(status) for status in error_statuses(handler, route)
            }
            handler.responses = {**defaults, **own}
            handler.operation_class = _OPERATION_CLASSES[_body_is_optional(handler)]

    def operation_id(
        self,
        handler: HTTPRouteHandler,
        http_method: str,
        path_components: list[str | PathParameterDefinition],
    ) -> str:
        """The operation id of ``handler`` (called when the document is built, after every
        route is known, so shared names can be qualified)."""
        return operation_id_for(
            handler.handler_name, path_components, shared=self._names[handler.handler_name] > 1
        )
