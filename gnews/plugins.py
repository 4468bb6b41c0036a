"""The plugin manager: entry points of group ``gnews``, modules named in ``GNEWS_PLUGINS`` and
the built-in plugins, all registered through the same hooks.

A plugin that fails to import or to register is logged with its name and skipped; a hook
implementation that raises is logged with its plugin's name and skipped for that call
(:func:`call_each`). Neither takes the service down.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
from collections.abc import Iterable
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

# Core behaviour that is itself written as plugins (dogfooding: no private back door).
DEFAULT_PLUGINS: tuple[str, ...] = ("gnews.news.tagging",)


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
    """One implementation's answer to a hook call."""

    plugin: str
    value: Any


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus bookkeeping of where each plugin came from and what failed."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.origins: dict[str, tuple[str, str | None]] = {}
        self.failures: list[PluginFailure] = []

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

    def call_each(self, hook_name: str, **kwargs: Any) -> list[HookResult]:
        """Call each implementation of a hook in turn; one that raises is logged and skipped.

        Results come in pluggy's order (last registered first, honouring tryfirst/trylast);
        None answers are left out.
        """
        results = []
        for impl in reversed(getattr(self.hook, hook_name).get_hookimpls()):
            try:
                value = impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as error:
                self.record_failure(impl.plugin_name, error, hook_name)
                continue
            if value is not None:
                results.append(HookResult(impl.plugin_name, value))
        return results

    def collect(self, hook_name: str, spec_type: type[S]) -> list[tuple[str, S]]:
        """Every declaration a hook returns, validated as ``spec_type``, with its plugin's name.

        A declaration that does not validate is reported with the plugin's name and skipped.
        """
        declared = []
        for result in self.call_each(hook_name):
            for item in result.value:
                try:
                    declared.append((result.plugin, spec_type.model_validate(item)))
                except ValidationError as error:
                    self.record_failure(result.plugin, error, hook_name)
        return declared

    async def call_each_async(self, hook_name: str, **kwargs: Any) -> list[HookResult]:
        """Like :meth:`call_each`, awaiting implementations that are coroutines."""
        results = []
        for result in self.call_each(hook_name, **kwargs):
            if inspect.isawaitable(result.value):
                try:
                    value = await result.value
                except Exception as error:
                    self.record_failure(result.plugin, error, hook_name)
                    continue
                if value is None:
                    continue
                result = HookResult(result.plugin, value)
            results.append(result)
        return results


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
) -> PluginManager:
    """A manager with the built-in plugins, installed entry points and ``extra_modules``.

    Plugins named in ``disabled`` (entry-point names or module paths) are not loaded.
    """
    manager = PluginManager()
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
