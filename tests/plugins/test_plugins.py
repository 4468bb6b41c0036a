"""The plugin manager: entry points, GNEWS_PLUGINS, failing plugins, `gnews plugins`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from gnews.agencies.models import Agency
from gnews.app import create_app
from gnews.plugins import DEFAULT_PLUGINS, build_plugin_manager
from tests.plugins.samples import good
from tests.support.api import serve_app

SAMPLES = "tests.plugins.samples"


def test_bundled_ega_plugin_is_loaded_from_its_entry_point():
    manager = build_plugin_manager()
    ega = next(info for info in manager.describe() if info.name == "ega")
    assert (ega.origin, ega.version) == ("entry point", "0.1.0")
    assert "gnews_agencies" in ega.hooks
    assert manager.failures == []


def test_disabled_plugins_are_not_loaded():
    manager = build_plugin_manager(disabled=["ega", "gnews.news.tagging"])
    names = {info.name for info in manager.describe()}
    assert "ega" not in names and "gnews.news.tagging" not in names


def test_modules_named_in_gnews_plugins_are_loaded_and_broken_ones_skipped():
    manager = build_plugin_manager(
        [f"{SAMPLES}.good", f"{SAMPLES}.broken_import", "no.such.module"], entry_points=False
    )
    infos = {info.name: info for info in manager.describe()}
    assert infos[f"{SAMPLES}.good"].origin == "GNEWS_PLUGINS"
    assert infos[f"{SAMPLES}.good"].hooks == ["gnews_agencies", "gnews_startup"]
    failed = {failure.plugin: failure.error for failure in manager.failures}
    assert set(failed) == {f"{SAMPLES}.broken_import", "no.such.module"}
    assert "not installed" in failed[f"{SAMPLES}.broken_import"]


def test_a_raising_hook_is_skipped_and_reported_the_others_still_answer():
    manager = build_plugin_manager([f"{SAMPLES}.good", f"{SAMPLES}.raising"], entry_points=False)
    results = manager.answers(manager.hook.gnews_agencies)
    assert [r.plugin for r in results] == [f"{SAMPLES}.good"]
    assert manager.failures[-1].plugin == f"{SAMPLES}.raising"
    assert manager.failures[-1].hook == "gnews_agencies"
    assert "agency list unavailable" in manager.failures[-1].error


async def test_startup_survives_raising_plugins_and_syncs_declared_agencies(settings):
    manager = build_plugin_manager(
        [f"{SAMPLES}.raising", f"{SAMPLES}.good", f"{SAMPLES}.invalid", f"{SAMPLES}.async_raising"],
        entry_points=False,
    )
    good.started_with.clear()
    app = create_app(settings, plugins=manager, setup_logging=False)
    async with serve_app(app) as http:
        assert (await http.get("/health/ready")).status_code == 200
        codes = sorted(a["code"] for a in (await http.get("/api/v1/agencies")).json()["items"])
        assert codes == ["nakhonsawan", "valid-one"]
    assert good.started_with == [app]
    failures = {(f.plugin, f.hook) for f in manager.failures}
    assert (f"{SAMPLES}.raising", "gnews_startup") in failures
    assert (f"{SAMPLES}.async_raising", "gnews_startup") in failures  # failed when awaited
    assert (f"{SAMPLES}.raising", "gnews_agencies") in failures
    assert (f"{SAMPLES}.invalid", "gnews_agencies") in failures


async def test_sync_never_overrides_what_an_admin_changed(settings):
    manager = build_plugin_manager([f"{SAMPLES}.good"], entry_points=False)
    async with serve_app(create_app(settings, plugins=manager, setup_logging=False)):
        agency = await Agency.find_one(Agency.code == "nakhonsawan")
        await agency.set({Agency.name_en: "Nakhon Sawan Provincial Hall", Agency.trusted: True})
    async with serve_app(create_app(settings, plugins=manager, setup_logging=False)):
        agency = await Agency.find_one(Agency.code == "nakhonsawan")
        assert agency.name_en == "Nakhon Sawan Provincial Hall" and agency.trusted is True
        assert await Agency.find_all().count() == 1


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gnews", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_gnews_plugins_lists_the_ega_plugin_and_reports_broken_ones(tmp_path):
    table = run_cli("plugins", GNEWS_DATA_DIR=str(tmp_path))
    assert table.returncode == 0, table.stderr
    assert "ega 0.1.0 (entry point)" in table.stdout and "gnews_agencies" in table.stdout
    listed = run_cli(
        "plugins", "--json", GNEWS_PLUGINS=f"{SAMPLES}.broken_import", GNEWS_DATA_DIR=str(tmp_path)
    )
    document = json.loads(listed.stdout)
    assert "ega" in [p["name"] for p in document["plugins"]]
    assert [f["plugin"] for f in document["failures"]] == [f"{SAMPLES}.broken_import"]


def test_gnews_plugins_lists_the_default_plugins_as_built_in(tmp_path):
    listed = run_cli("plugins", "--json", GNEWS_DATA_DIR=str(tmp_path))
    assert listed.returncode == 0, listed.stderr
    plugins = {p["name"]: p for p in json.loads(listed.stdout)["plugins"]}
    assert {"gnews.news.tagging", "workers.push.builtin", "workers.push.webpush"} <= set(
        DEFAULT_PLUGINS
    )
    for name, hooks in [
        ("gnews.news.tagging", ["gnews_item_provinces"]),
        ("workers.push.builtin", ["gnews_push_platforms", "gnews_push_transports"]),
        ("workers.push.webpush", ["gnews_push_platforms", "gnews_push_transports"]),
    ]:
        assert (plugins[name]["origin"], plugins[name]["hooks"]) == ("built-in", hooks)
    table = run_cli("plugins", GNEWS_DATA_DIR=str(tmp_path))
    assert "workers.push.builtin 0.1.0 (built-in)" in table.stdout


def test_every_manager_registers_the_default_plugins_the_same_way():
    manager = build_plugin_manager(entry_points=False)
    assert {
        "gnews.news.tagging",
        "workers.push.builtin",
        "workers.push.hms",
        "workers.push.webpush",
    } <= set(DEFAULT_PLUGINS)
    assert {manager.origins[name] for name in DEFAULT_PLUGINS} == {("built-in", None)}
    off = build_plugin_manager(entry_points=False, disabled=["workers.push.builtin"])
    assert off.get_plugin("workers.push.builtin") is None
    impls = off.hook.gnews_push_transports.get_hookimpls()
    assert "workers.push.builtin" not in {impl.plugin_name for impl in impls}
    assert "workers.push.webpush" in {impl.plugin_name for impl in impls}
