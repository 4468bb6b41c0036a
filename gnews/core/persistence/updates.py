"""The one way to change stored documents: guarded partial updates and validated inserts.

Domain code states *what* changes (``set``, ``inc``, ``unset``, ``push``) and *under which
condition* (``filter``: the ``_id`` plus whatever the caller checked: a status, a version, an
expiry). It never replaces a whole document from a copy read earlier, so a concurrent change to
another field always survives.

Every written value is validated against the model first (:class:`InvalidDocument` names the
fields, nothing is stored): a partial update can never store a value the model cannot load back.

On MongoDB the update is sent as it is: one atomic ``$set``/``$inc``/``$unset``/``$push`` guarded
by the filter. The embedded server (see :mod:`gnews.core.persistence.embedded`) stores a
datetime written with ``$set``, and any document written with ``$push``, as a string; updates
carrying those are done there as a compare-and-swap on a revision counter instead (read the
matching document, apply the operators here, replace it only if its revision is unchanged,
retry on a lost race). Callers cannot tell the two apart.
"""

from __future__ import annotations

import datetime as dt
import functools
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from beanie import Document
from beanie.odm.utils.encoder import Encoder
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from gnews.core.persistence import embedded

D = TypeVar("D", bound=Document)

DUPLICATE_KEY = 11000


class InvalidDocument(ValueError):
    """A write was refused: these fields (path → reason) would not load back with the model."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in self.errors.items()))


class UpdateConflict(RuntimeError):
    """The compare-and-swap lost the race too many times in a row (an extremely hot document)."""


@dataclass(frozen=True)
class Each:
    """``push={"field": Each(items, keep_last=100)}``: append several items, keep the newest N."""

    items: list[Any]
    keep_last: int | None = None


@dataclass(frozen=True)
class Update:
    """One partial update: the operators, validated and encoded for the database."""

    set: dict[str, Any] = field(default_factory=dict)
    inc: dict[str, int | float] = field(default_factory=dict)
    unset: tuple[str, ...] = ()
    push: dict[str, Each] = field(default_factory=dict)

    def as_mongodb(self) -> dict[str, Any]:
        """The update document MongoDB executes."""
        update: dict[str, Any] = {}
        if self.set:
            update["$set"] = dict(self.set)
        if self.inc:
            update["$inc"] = dict(self.inc)
        if self.unset:
            update["$unset"] = dict.fromkeys(self.unset, "")
        if self.push:
            update["$push"] = {
                path: {"$each": each.items}
                | ({"$slice": -each.keep_last} if each.keep_last is not None else {})
                for path, each in self.push.items()
            }
        return update

    def apply_to(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The stored document ``raw`` as it is after this update (what MongoDB would do)."""
        result = _deep_copy(raw)
        for path, value in self.set.items():
            _put(result, path, _deep_copy(value))
        for path, amount in self.inc.items():
            _put(result, path, (_get(result, path) or 0) + amount)
        for path in self.unset:
            _remove(result, path)
        for path, each in self.push.items():
            items = list(_get(result, path) or []) + _deep_copy(each.items)
            if each.keep_last is not None:
                items = items[-each.keep_last :] if each.keep_last else []
            _put(result, path, items)
        return result


# --- public operations -------------------------------------------------------------------------


async def update_one(
    model: type[Document],
    filter: Mapping[str, Any],
    *,
    set: Mapping[str, Any] | None = None,
    inc: Mapping[str, int | float] | None = None,
    unset: Iterable[str] = (),
    push: Mapping[str, Any] | None = None,
) -> bool:
    """Change one document of ``model`` matching ``filter``; True when one matched.

    ``set``: path → value; ``inc``: path → amount; ``unset``: paths (back to the model's
    default); ``push``: path → item, or :class:`Each`. Paths may be dotted (``"stats.opened"``).
    Raises :class:`InvalidDocument` (nothing stored) when a value does not fit the model.
    """
    update = build_update(model, set=set, inc=inc, unset=unset, push=push)
    return await _apply(model, filter, update, return_document=False) is not None


async def find_one_and_update(
    model: type[D],
    filter: Mapping[str, Any],
    *,
    set: Mapping[str, Any] | None = None,
    inc: Mapping[str, int | float] | None = None,
    unset: Iterable[str] = (),
    push: Mapping[str, Any] | None = None,
) -> D | None:
    """Like :func:`update_one`, returning the document as stored after the change (or None)."""
    update = build_update(model, set=set, inc=inc, unset=unset, push=push)
    raw = await _apply(model, filter, update, return_document=True)
    return None if raw is None else model.model_validate(raw)


async def _apply(
    model: type[Document], filter: Mapping[str, Any], update: Update, *, return_document: bool
) -> dict[str, Any] | None:
    """Run ``update``: natively, or as a compare-and-swap where the embedded server needs one.

    Returns the document after the change (``return_document``), else ``{}``, or None when
    nothing matched.
    """
    collection = model.get_pymongo_collection()
    on_embedded = await embedded.is_embedded(collection)
    if on_embedded and (
        embedded.needs_compare_and_swap(model, update) or _datetime_equalities(filter)
    ):
        return await _compare_and_swap(model, filter, update)
    document = update.as_mongodb()
    if on_embedded:
        document.setdefault("$inc", {})[embedded.REVISION] = 1
    if not document:
        return await collection.find_one(dict(filter))
    if return_document:
        return await collection.find_one_and_update(
            dict(filter), document, return_document=ReturnDocument.AFTER
        )
    result = await collection.update_one(dict(filter), document)
    return {} if result.matched_count else None


async def update_many(
    model: type[Document],
    filter: Mapping[str, Any],
    *,
    set: Mapping[str, Any] | None = None,
    inc: Mapping[str, int | float] | None = None,
    unset: Iterable[str] = (),
) -> int:
    """Change every document of ``model`` matching ``filter``; returns how many were changed."""
    update = build_update(model, set=set, inc=inc, unset=unset)
    collection = model.get_pymongo_collection()
    if await embedded.is_embedded(collection) and embedded.needs_compare_and_swap(model, update):
        changed = 0
        async for raw in collection.find(dict(filter), {"_id": 1}):
            # Flat, with the exact _id: the embedded server scans the collection for a "$and".
            guarded = {**filter, "_id": raw["_id"]}
            changed += await _compare_and_swap(model, guarded, update) is not None
        return changed
    document = update.as_mongodb()
    if await embedded.is_embedded(collection):
        document.setdefault("$inc", {})[embedded.REVISION] = 1
    result = await collection.update_many(dict(filter), document)
    return result.modified_count


async def insert(document: D) -> D:
    """Store a new document after validating it as a whole (raises :class:`InvalidDocument`)."""
    model = type(document)
    validate_document(model, document.model_dump(by_alias=True))
    collection = model.get_pymongo_collection()
    if not embedded.has_shadows(model) or not await embedded.is_embedded(collection):
        await document.insert()
        return document
    raw = embedded.add_shadows(model, Encoder(to_db=True).encode(document))
    if raw.get("_id") is None:
        raw.pop("_id", None)
    result = await collection.insert_one(raw)
    document.id = result.inserted_id
    return document


@dataclass(frozen=True)
class InsertOutcome:
    """What :func:`insert_many` stored: the positions inserted and those skipped as duplicates."""

    inserted: int
    duplicates: list[int]


async def insert_many(model: type[D], documents: list[D]) -> InsertOutcome:
    """Insert ``documents`` unordered: a duplicate key (code 11000) skips that one document only.

    Every other write error is raised. Each document is validated first.
    """
    if not documents:
        return InsertOutcome(0, [])
    encoder = Encoder(to_db=True)
    raws = []
    for document in documents:
        validate_document(model, document.model_dump(by_alias=True))
        raw = encoder.encode(document)
        if raw.get("_id") is None:
            raw.pop("_id", None)
        raws.append(raw)
    collection = model.get_pymongo_collection()
    if await embedded.is_embedded(collection):
        raws = [embedded.add_shadows(model, raw) for raw in raws]
    try:
        result = await collection.insert_many(raws, ordered=False)
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        if any(item.get("code") != DUPLICATE_KEY for item in errors):
            raise
        duplicates = sorted(item["index"] for item in errors)
        return InsertOutcome(error.details.get("nInserted", 0), duplicates)
    return InsertOutcome(len(result.inserted_ids), [])


def is_duplicate_key(error: BaseException) -> bool:
    """True for a unique-index violation (code 11000), however pymongo wrapped it."""
    code = getattr(error, "code", None)
    if code == DUPLICATE_KEY:
        return True
    details = getattr(error, "details", None) or {}
    return any(item.get("code") == DUPLICATE_KEY for item in details.get("writeErrors", []))


# --- validation --------------------------------------------------------------------------------


def validate_document(model: type[BaseModel], raw: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidDocument` unless ``raw`` loads as ``model``."""
    try:
        model.model_validate(raw)
    except PydanticValidationError as error:
        raise InvalidDocument(_reasons(error)) from None


def build_update(
    model: type[BaseModel],
    *,
    set: Mapping[str, Any] | None = None,
    inc: Mapping[str, int | float] | None = None,
    unset: Iterable[str] = (),
    push: Mapping[str, Any] | None = None,
) -> Update:
    """Validate the operators against ``model`` and encode their values for the database."""
    errors: dict[str, str] = {}
    encoder = Encoder(to_db=True)
    encoded_set: dict[str, Any] = {}
    for path, value in (set or {}).items():
        try:
            encoded_set[path] = encoder.encode(_field_adapter(model, path).validate_python(value))
        except _FieldProblem as problem:
            errors[path] = str(problem)
        except PydanticValidationError as error:
            errors[path] = _first_reason(error)
    for path, amount in (inc or {}).items():
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            errors[path] = "an increment must be a number"
            continue
        try:
            _adapter_for(_strip_optional(_resolve(model, path)[0])).validate_python(amount)
        except _FieldProblem as problem:
            errors[path] = str(problem)
        except PydanticValidationError:
            errors[path] = "cannot be incremented by that"
    for path in unset:
        try:
            if _is_required(model, path):
                errors[path] = "is required and cannot be removed"
        except _FieldProblem as problem:
            errors[path] = str(problem)
    encoded_push: dict[str, Each] = {}
    for path, value in (push or {}).items():
        each = value if isinstance(value, Each) else Each([value])
        try:
            item_adapter = _item_adapter(model, path)
            items = [encoder.encode(item_adapter.validate_python(item)) for item in each.items]
            encoded_push[path] = Each(items, each.keep_last)
        except _FieldProblem as problem:
            errors[path] = str(problem)
        except PydanticValidationError as error:
            errors[path] = _first_reason(error)
    clashing = _clashing_paths([*encoded_set, *(inc or {}), *unset, *encoded_push])
    for path in clashing:
        errors.setdefault(path, "changed twice in one update")
    if errors:
        raise InvalidDocument(errors)
    return Update(encoded_set, dict(inc or {}), tuple(unset), encoded_push)


class _FieldProblem(Exception):
    pass


def _resolve(model: type[BaseModel], path: str) -> tuple[Any, FieldInfo | None]:
    """The type at ``path`` (dotted: through nested models and dict keys), and its field (None
    for a dict key)."""
    if path in ("_id", "id"):
        raise _FieldProblem("the id of a stored document never changes")
    annotation: Any = model
    info: FieldInfo | None = None
    for part in path.split("."):
        inner = _strip_optional(annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            info = _fields_by_stored_name(inner).get(part)
            if info is None:
                raise _FieldProblem(f"is not a field of {inner.__name__}")
            annotation = info.annotation
        elif typing.get_origin(inner) is dict:
            info, annotation = None, typing.get_args(inner)[1]
        else:
            raise _FieldProblem("is not a field")
    return annotation, info


def _field_adapter(model: type[BaseModel], path: str) -> TypeAdapter[Any]:
    """A validator for the value at ``path``, with the field's own constraints."""
    annotation, info = _resolve(model, path)
    return _adapter_for_field(info) if info is not None else _adapter_for(annotation)


def _is_required(model: type[BaseModel], path: str) -> bool:
    info = _resolve(model, path)[1]
    return info is not None and info.is_required()


def _item_adapter(model: type[BaseModel], path: str) -> TypeAdapter[Any]:
    annotation = _strip_optional(_resolve(model, path)[0])
    if typing.get_origin(annotation) not in (list, tuple, set):
        raise _FieldProblem("is not a list")
    return _adapter_for(typing.get_args(annotation)[0])


@functools.cache
def _fields_by_stored_name(model: type[BaseModel]) -> dict[str, FieldInfo]:
    fields: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        fields[name] = info
        if info.alias:
            fields[info.alias] = info
    return fields


@functools.cache
def _adapter_for(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


_FIELD_ADAPTERS: dict[int, tuple[FieldInfo, TypeAdapter[Any]]] = {}


def _adapter_for_field(info: FieldInfo) -> TypeAdapter[Any]:
    known = _FIELD_ADAPTERS.get(id(info))
    if known is None or known[0] is not info:
        annotation: Any = info.annotation
        if info.metadata:  # the field's constraints (ge=0, max_length=…) apply to the value too
            annotation = typing.Annotated[(annotation, *info.metadata)]
        known = (info, TypeAdapter(annotation))
        _FIELD_ADAPTERS[id(info)] = known
    return known[1]


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _clashing_paths(paths: list[str]) -> list[str]:
    clashes = []
    for index, path in enumerate(paths):
        for other in paths[index + 1 :]:
            if path == other or other.startswith(path + ".") or path.startswith(other + "."):
                clashes.append(other)
    return clashes


def _reasons(error: PydanticValidationError) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "document"
        reasons.setdefault(path, item["msg"])
    return reasons


def _first_reason(error: PydanticValidationError) -> str:
    return error.errors()[0]["msg"]


# --- compare-and-swap (the embedded server) ----------------------------------------------------

MAX_ATTEMPTS = 20


async def _compare_and_swap(
    model: type[BaseModel], filter: Mapping[str, Any], update: Update
) -> dict[str, Any] | None:
    """Apply ``update`` to the document matching ``filter`` as read-modify-replace, guarded by
    the revision counter so that nothing changed in between is overwritten."""
    collection = model.get_pymongo_collection()  # type: ignore[attr-defined]
    for _ in range(MAX_ATTEMPTS):
        raw = await collection.find_one(dict(filter))
        if raw is None or not _same_moments(filter, raw):
            return None
        revision = raw.get(embedded.REVISION)
        changed = update.apply_to(raw)
        changed[embedded.REVISION] = (revision or 0) + 1
        validate_document(model, changed)
        embedded.add_shadows(model, changed)
        replaced = await collection.replace_one(
            {"_id": raw["_id"], embedded.REVISION: revision}, changed
        )
        if replaced.matched_count:
            return changed
    raise UpdateConflict(f"{model.__name__}: update lost {MAX_ATTEMPTS} races in a row")


def _datetime_equalities(filter: Mapping[str, Any]) -> dict[str, dt.datetime]:
    """The conditions of ``filter`` that are a datetime equality (e.g. a version guard on
    ``updated_at``)."""
    return {path: value for path, value in filter.items() if isinstance(value, dt.datetime)}


def _millisecond(moment: dt.datetime) -> dt.datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


def _same_moments(filter: Mapping[str, Any], raw: Mapping[str, Any]) -> bool:
    """Whether ``raw`` holds exactly the datetimes ``filter`` asks for (to the millisecond,
    BSON's precision): the embedded server compares datetimes in a filter only to the second,
    so a version guard on a time would match a document changed within the same second."""
    for path, wanted in _datetime_equalities(filter).items():
        stored = _get(raw, path)
        if not isinstance(stored, dt.datetime) or _millisecond(stored) != _millisecond(wanted):
            return False
    return True


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def _get(document: Mapping[str, Any], path: str) -> Any:
    current: Any = document
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _put(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    current = document
    for part in parents:
        current = current.setdefault(part, {})
    current[last] = value


def _remove(document: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    current: Any = document
    for part in parents:
        current = current.get(part) if isinstance(current, dict) else None
    if isinstance(current, dict):
        current.pop(last, None)


def contains_datetime(value: Any) -> bool:
    """True when ``value`` is or holds a datetime."""
    if isinstance(value, dt.datetime):
        return True
    if isinstance(value, Mapping):
        return any(contains_datetime(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_datetime(item) for item in value)
    return False
