"""The plugin manager: the default plugins, entry points of group ``gnews`` and modules named in
``GNEWS_PLUGINS``, all registered one way and called through pluggy (``manager.hook.<name>``).

Per-plugin isolation: every implementation is wrapped when it is registered (:func:`_guard`), so
one that raises is logged with its plugin's name and hook, recorded in
:attr:`PluginManager.failures`, and counts as "no answer" (None) while the others still answer;
a hook wrapper that raises is skipped as if it were not there. Otherwise pluggy's rules hold as
documented: ``wrapper=True`` (and old-style ``hookwrapper=True``) implementations wrap the call
and may change its result, ``firstresult`` hooks stop at the first answer that is not None,
``tryfirst``/``trylast`` order the calls. An ``async def`` implementation's answer is a
coroutine, itself guarded: the caller awaits it (``gnews_startup``).

``GNEWS_TRACE_PLUGINS=1`` logs every hook call and every implementation's part in it, with the
plugin, a short summary of the arguments and the duration.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import reprlib
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import pluggy
import structlog
from pydantic import BaseModel, ValidationError

from gnews import hookspecs

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "gnews"
S = TypeVar("S", bound=BaseModel)

DEFAULT_PLUGINS: tuple[str, ...] = (
    "gnews.news.tagging",
    "workers.push.builtin",
    "workers.push.hms",
    "workers.push.webpush",
)
"""Core behaviour written as plugins, registered through the same hooks as any agency's
(dogfooding: the core has no private back door), with origin ``built-in``: the province tagger
(``gnews_item_provinces``), the FCM and APNs platforms and transports (``gnews_push_platforms``,
``gnews_push_transports``), Huawei's (``workers.push.hms``) and the Web Push channel
(``workers.push.webpush``).

They are dotted module paths, imported by :func:`build_plugin_manager` when a manager is built,
not at import time of this module: ``gnews`` may not import ``workers`` at module level (the
package rules in DESIGN.md), and a path keeps the one list of built-in plugins here while the
transports stay with the worker code they need. Their heavy dependencies (the FCM and APNs
clients) are imported inside the hook, so the API loading ``workers.push.builtin`` costs little.
Each can be switched off with ``GNEWS_DISABLED_PLUGINS`` like any plugin.
"""


@dataclass(slots=True)
class PluginFailure:
    """A plugin that could not be loaded, or a hook call that raised."""

    plugin: str
    error: str
    hook: str | None = None


@dataclass(slots=True)
class PluginInfo:
    """What ``gnews plugins`` shows of one plugin."""

    name: str
    version: str | None
    origin: str
    hooks: list[str] = field(default_factory=list)


@dataclass(slots=True)
class HookResult:
    """One answer to a hook call and the plugin that gave it."""

    plugin: str
    value: Any


@dataclass(slots=True)
class _Answering:
    """Who answered during one :meth:`PluginManager.answers` call."""

    hook: str
    answers: list[tuple[str, object]] = field(default_factory=list)
    wrappers: list[str] = field(default_factory=list)  # in the order they finished


_answering: ContextVar[_Answering | None] = ContextVar("gnews_plugin_answering", default=None)

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlist = _short.maxdict = 3
_IDENTIFYING = ("slug", "key", "code", "platform", "notification_id")


def summarise_arguments(names: Sequence[str], values: Sequence[object]) -> str:
    """A short one-line summary of hook arguments for the trace: ``item=NewsItem(key='…')``."""
    pairs = zip(names, values, strict=False)
    return " ".join(f"{name}={_summarise(value)}" for name, value in pairs)


def _summarise(value: object) -> str:
    if value is None or isinstance(value, (str, int, float, bool, list, tuple, dict, set)):
        return _short.repr(value)
    for attribute in _IDENTIFYING:
        identifier = getattr(value, attribute, None)
        if isinstance(identifier, str):
            return f"{type(value).__name__}({attribute}={_short.repr(identifier)})"
    return type(value).__name__


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, with each implementation guarded, and bookkeeping of where each plugin
    came from and what failed."""

    def __init__(self, *, trace: bool = False) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.origins: dict[str, tuple[str, str | None]] = {}
        self.failures: list[PluginFailure] = []
        self.tracing = False
        self._untrace: Callable[[], None] | None = None
        self.set_tracing(trace)

    # --- registration ---------------------------------------------------------------------------

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` as pluggy does, then guard each of its implementations."""
        registered = super().register(plugin, name)
        if registered is not None:
            for caller in self.get_hookcallers(plugin) or []:
                for impl in caller.get_hookimpls():
                    if impl.plugin is plugin:
                        # HookImpl.function is Final for pluggy's typing only; replacing it is
                        # how the guard sits between pluggy's call loop and the plugin.
                        setattr(impl, "function", _guard(self, impl, caller.name))  # noqa: B010
        return registered

    def register_safely(
        self, plugin: object, name: str, origin: str, version: str | None = None
    ) -> None:
        """Register ``plugin``; on error, log and record the failure instead of raising."""
        try:
            self.register(plugin, name=name)
        except Exception as error:
            self.record_failure(name, error)
            return
        self.origins[name] = (origin, version)

    def load_module(self, path: str, origin: str, version: str | None = None) -> None:
        """Import a module by dotted path and register it."""
        try:
            module = importlib.import_module(path)
        except Exception as error:
            self.record_failure(path, error)
            return
        self.register_safely(module, path, origin, version)

    def load_entry_points(self) -> None:
        """Load every installed plugin of the ``gnews`` entry-point group."""
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self.get_plugin(entry_point.name) is not None or self.is_blocked(entry_point.name):
                continue
            version = entry_point.dist.version if entry_point.dist else None
            try:
                plugin = entry_point.load()
            except Exception as error:
                self.record_failure(entry_point.name, error)
                continue
            self.register_safely(plugin, entry_point.name, "entry point", version)

    # --- failures -------------------------------------------------------------------------------

    def record_failure(self, name: str, error: BaseException, hook: str | None = None) -> None:
        """Log and keep a plugin failure (shown by `gnews plugins` and in the logs)."""
        message = f"{type(error).__name__}: {error}"
        self.failures.append(PluginFailure(name, message, hook))
        log.error("plugin failed", plugin=name, hook=hook, error=message)

    def failed_plugins(self, since: int = 0) -> set[str]:
        """Plugins that could not be loaded, or that failed (in any way) from failure number
        ``since`` on: what they declared before must be left as it is, not taken as withdrawn
        (a plugin that fails to import declares nothing this time, on purpose or not)."""
        return {
            failure.plugin
            for number, failure in enumerate(self.failures)
            if failure.hook is None or number >= since
        }

    def describe(self) -> list[PluginInfo]:
        """Each loaded plugin, its version and the hooks it implements."""
        infos = []
        for name, plugin in self.list_name_plugin():
            if plugin is None:  # blocked (GNEWS_DISABLED_PLUGINS)
                continue
            origin, version = self.origins.get(name, ("registered", None))
            if version is None and isinstance(plugin, ModuleType):
                version = _module_version(plugin)
            hooks = sorted(caller.name for caller in self.get_hookcallers(plugin) or [])
            infos.append(PluginInfo(name, version, origin, hooks))
        return sorted(infos, key=lambda info: (info.origin != "entry point", info.name))

    # --- calling hooks --------------------------------------------------------------------------

    def answers(self, hook: pluggy.HookCaller, **kwargs: Any) -> list[HookResult]:
        """Call ``hook`` (``manager.hook.<name>``) through pluggy and say who gave each answer.

        The answers are pluggy's result, in pluggy's order (last registered first, honouring
        tryfirst/trylast, wrappers and ``firstresult``), without Nones. Each is attributed to
        the implementation that returned it; an answer a wrapper put in the result is
        attributed to the outermost wrapper (the one that handed the result back).
        """
        answering = _Answering(hook.name)
        token = _answering.set(answering)
        try:
            outcome = hook(**kwargs)
        finally:
            _answering.reset(token)
        spec = hook.spec
        if spec is not None and spec.opts.get("firstresult"):
            values: list[object] = [] if outcome is None else [outcome]
        else:
            values = list(outcome)
        # By identity: the answers are alive (held in answering), so their ids are distinct.
        owners: dict[int, list[str]] = {}
        for plugin, answer in answering.answers:
            owners.setdefault(id(answer), []).append(plugin)
        outermost_wrapper = answering.wrappers[-1] if answering.wrappers else "(unknown)"
        results = []
        for value in values:
            claimed = owners.get(id(value))
            results.append(HookResult(claimed.pop(0) if claimed else outermost_wrapper, value))
        return results

    def collect(self, hook_name: str, spec_type: type[S]) -> list[tuple[str, S]]:
        """Every declaration the hook ``hook_name`` returns, validated as ``spec_type``, with
        its plugin's name.

        An answer that is not a list of declarations, or a declaration that does not validate,
        is reported with the plugin's name and skipped.
        """
        declared = []
        for result in self.answers(getattr(self.hook, hook_name)):
            for item in self.iterate(result, hook_name):
                try:
                    declared.append((result.plugin, spec_type.model_validate(item)))
                except ValidationError as error:
                    self.record_failure(result.plugin, error, hook_name)
        return declared

    def iterate(self, result: HookResult, hook_name: str) -> list[Any]:
        """The items of an answer that should be a collection; a failure of its plugin (and
        nothing) when it is not one."""
        if isinstance(result.value, (str, bytes, Mapping)) or not isinstance(
            result.value, Iterable
        ):
            error = TypeError(f"expected a list, got {type(result.value).__name__}")
            self.record_failure(result.plugin, error, hook_name)
            return []
        try:
            return list(result.value)
        except Exception as error:  # a generator implementation that raised
            self.record_failure(result.plugin, error, hook_name)
            return []

    # --- tracing --------------------------------------------------------------------------------

    def set_tracing(self, enabled: bool) -> None:
        """Log every hook call and each implementation's part in it (``GNEWS_TRACE_PLUGINS``)."""
        self.tracing = enabled
        if enabled and self._untrace is None:
            self._untrace = self.add_hookcall_monitoring(*_call_tracer())
        elif not enabled and self._untrace is not None:
            self._untrace()
            self._untrace = None


def _call_tracer() -> tuple[Callable[..., None], Callable[..., None]]:
    """``before``/``after`` for pluggy's hook-call monitoring: one log line per hook call."""
    # Per thread (the worker runs item hooks in threads), a stack: a hook may call a hook.
    local = threading.local()

    def before(
        hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]
    ) -> None:
        if not hasattr(local, "started"):
            local.started = []
        local.started.append(time.perf_counter())

    def after(
        outcome: pluggy.Result[object],
        hook_name: str,
        impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, object],
    ) -> None:
        duration_ms = (time.perf_counter() - local.started.pop()) * 1000
        log.info(
            "plugin hook call",
            hook=hook_name,
            args=summarise_arguments(list(kwargs), list(kwargs.values())),
            plugins=[impl.plugin_name for impl in reversed(impls)],
            duration_ms=round(duration_ms, 3),
            raised=outcome.exception is not None,
        )

    return before, after


def _guard(manager: PluginManager, impl: pluggy.HookImpl, hook: str) -> Callable[..., Any]:
    """``impl.function`` wrapped so that its plugin's failures are recorded, not raised."""
    if impl.wrapper:
        return _guard_wrapper(manager, impl, hook)
    if impl.hookwrapper:
        return _guard_old_style_wrapper(manager, impl, hook)
    function: Callable[..., Any] = impl.function
    plugin = impl.plugin_name

    def guarded(*args: Any, **kwargs: Any) -> Any:
        tracing = manager.tracing
        started = time.perf_counter() if tracing else 0.0
        try:
            value = function(*args, **kwargs)
        except Exception as error:
            manager.record_failure(plugin, error, hook)
            if tracing:
                _trace_impl(impl, hook, args, started, answered=False, raised=True)
            return None
        if value is not None:
            if type(value) is not list and inspect.isawaitable(value):  # list: the usual answer
                value = _guard_awaitable(manager, plugin, hook, value)
            answering = _answering.get()
            if answering is not None and answering.hook == hook:
                answering.answers.append((plugin, value))
        if tracing:
            _trace_impl(impl, hook, args, started, answered=value is not None)
        return value

    return _signed_as(guarded, function)


async def _guard_awaitable(
    manager: PluginManager, plugin: str, hook: str, awaitable: Awaitable[Any]
) -> Any:
    started = time.perf_counter()
    try:
        return await awaitable
    except Exception as error:
        manager.record_failure(plugin, error, hook)
        return None
    finally:
        if manager.tracing:
            duration_ms = (time.perf_counter() - started) * 1000
            log.info(
                "plugin hook awaited", plugin=plugin, hook=hook, duration_ms=round(duration_ms, 3)
            )


def _guard_wrapper(
    manager: PluginManager, impl: pluggy.HookImpl, hook: str
) -> Callable[..., Generator[None, object, object]]:
    """A new-style wrapper (``wrapper=True``) with pluggy's semantics, except that an exception
    of its own (before or after its ``yield``) is recorded and the wrapper is then passed over:
    the result (or the inner exception) goes on as if it were not there."""
    function: Callable[..., Any] = impl.function
    plugin = impl.plugin_name

    def guarded(*args: Any, **kwargs: Any) -> Generator[None, object, object]:
        started = time.perf_counter()
        try:
            teardown: Generator[Any, Any, Any] = function(*args, **kwargs)
            next(teardown)
        except StopIteration:
            manager.record_failure(plugin, RuntimeError("hook wrapper did not yield"), hook)
            return (yield)
        except Exception as error:
            manager.record_failure(plugin, error, hook)
            return (yield)
        try:
            try:
                result = yield
            except BaseException as inner:  # raised inside: the wrapper may handle it
                try:
                    teardown.throw(inner)
                except StopIteration as stop:
                    return stop.value
                except BaseException as error:
                    if error is not inner and isinstance(error, Exception):
                        manager.record_failure(plugin, error, hook)
                        raise inner from None
                    raise
                teardown.close()
                manager.record_failure(plugin, RuntimeError("hook wrapper yielded twice"), hook)
                raise
            try:
                teardown.send(result)
            except StopIteration as stop:
                if _is_hook_result(manager, hook, stop.value):
                    return stop.value
                wrong = TypeError(f"hook wrapper returned {type(stop.value).__name__}, not a list")
                manager.record_failure(plugin, wrong, hook)
                return result
            except Exception as error:
                manager.record_failure(plugin, error, hook)
                return result
            teardown.close()
            manager.record_failure(plugin, RuntimeError("hook wrapper yielded twice"), hook)
            return result
        finally:
            _finish_wrapper(manager, impl, hook, args, started)

    return _signed_as(guarded, function)


def _is_hook_result(manager: PluginManager, hook: str, value: object) -> bool:
    """Whether ``value`` may be the result of ``hook``: a list, unless it is ``firstresult``."""
    spec = getattr(manager.hook, hook).spec
    return isinstance(value, list) or (spec is not None and bool(spec.opts.get("firstresult")))


def _guard_old_style_wrapper(
    manager: PluginManager, impl: pluggy.HookImpl, hook: str
) -> Callable[..., Generator[None, object, None]]:
    """An old-style wrapper (``hookwrapper=True``, gets a :class:`pluggy.Result`), guarded the
    same way as :func:`_guard_wrapper`."""
    function: Callable[..., Any] = impl.function
    plugin = impl.plugin_name

    def guarded(*args: Any, **kwargs: Any) -> Generator[None, object, None]:
        started = time.perf_counter()
        try:
            teardown: Generator[Any, Any, Any] = function(*args, **kwargs)
            next(teardown)
        except StopIteration:
            manager.record_failure(plugin, RuntimeError("hook wrapper did not yield"), hook)
            yield
            return
        except Exception as error:
            manager.record_failure(plugin, error, hook)
            yield
            return
        try:
            outcome = yield
            try:
                teardown.send(outcome)
            except StopIteration:
                return
            except Exception as error:
                manager.record_failure(plugin, error, hook)
                return
            manager.record_failure(plugin, RuntimeError("hook wrapper yielded twice"), hook)
        finally:
            teardown.close()
            _finish_wrapper(manager, impl, hook, args, started)

    return _signed_as(guarded, function)


def _finish_wrapper(
    manager: PluginManager,
    impl: pluggy.HookImpl,
    hook: str,
    args: Sequence[object],
    started: float,
) -> None:
    answering = _answering.get()
    if answering is not None and answering.hook == hook:
        answering.wrappers.append(impl.plugin_name)
    if manager.tracing:
        _trace_impl(impl, hook, args, started, answered=None)


def _trace_impl(
    impl: pluggy.HookImpl,
    hook: str,
    args: Sequence[object],
    started: float,
    *,
    answered: bool | None,
    raised: bool = False,
) -> None:
    duration_ms = (time.perf_counter() - started) * 1000
    outcome: dict[str, bool] = {"wrapper": True} if answered is None else {"answered": answered}
    if raised:
        outcome["raised"] = True
    log.info(
        "plugin hook",
        plugin=impl.plugin_name,
        hook=hook,
        args=summarise_arguments(impl.argnames, args),
        duration_ms=round(duration_ms, 3),
        **outcome,
    )


F = TypeVar("F", bound=Callable[..., Any])


def _signed_as(guarded: F, function: Callable[..., Any]) -> F:
    """Give the guard the plugin function's name, docstring and signature (pluggy reads the
    argument names of ``impl.function`` when a hook spec is added after registration)."""
    guarded.__name__ = getattr(function, "__name__", guarded.__name__)
    guarded.__qualname__ = getattr(function, "__qualname__", guarded.__qualname__)
    guarded.__doc__ = function.__doc__
    guarded.__wrapped__ = function  # type: ignore[attr-defined]
    return guarded


def _module_version(module: ModuleType) -> str | None:
    top = module.__name__.split(".")[0]
    if top in ("gnews", "workers"):  # this distribution's own packages
        from gnews import __version__

        return __version__
    try:
        return importlib.metadata.version(top)
    except importlib.metadata.PackageNotFoundError:
        return getattr(module, "__version__", None)


def build_plugin_manager(
    extra_modules: Iterable[str] = (),
    *,
    entry_points: bool = True,
    disabled: Iterable[str] = (),
    trace: bool = False,
) -> PluginManager:
    """A manager with the default plugins (:data:`DEFAULT_PLUGINS`), installed entry points and
    ``extra_modules``.

    Plugins named in ``disabled`` (entry-point names or module paths) are not loaded. ``trace``
    (``GNEWS_TRACE_PLUGINS``): log every hook call.
    """
    manager = PluginManager(trace=trace)
    for name in disabled:
        manager.set_blocked(name)
    for path in DEFAULT_PLUGINS:
        if not manager.is_blocked(path):
            manager.load_module(path, "built-in")
    if entry_points:
        manager.load_entry_points()
    for path in extra_modules:
        if manager.get_plugin(path) is None and not manager.is_blocked(path):
            manager.load_module(path, "GNEWS_PLUGINS")
    return manager
