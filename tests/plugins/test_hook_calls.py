"""Hooks are called through pluggy with per-plugin isolation: raising implementations are
skipped, wrappers and ``firstresult`` keep pluggy's rules, tracing logs every call."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from gnews.hookspecs import AgencySpec, hookimpl
from gnews.plugins import build_plugin_manager
from tests.plugins.samples import async_raising, old_style_wrapping, pick_spec, wrapping
from tests.plugins.samples.raising_wrapper import (
    OldStyleRaisesAfterYield,
    RaisesAfterYield,
    RaisesBeforeYield,
    ReturnsNone,
)

SAMPLES = "tests.plugins.samples"


def codes(answers):
    return sorted(spec.code for answer in answers for spec in answer)


def test_a_raising_implementation_is_no_answer_and_the_others_still_answer():
    manager = build_plugin_manager([f"{SAMPLES}.good", f"{SAMPLES}.raising"], entry_points=False)
    answers = manager.hook.gnews_agencies()  # a plain pluggy call: nothing raises
    assert codes(answers) == ["nakhonsawan"]
    [failure] = manager.failures
    assert (failure.plugin, failure.hook) == (f"{SAMPLES}.raising", "gnews_agencies")
    assert failure.error == "RuntimeError: agency list unavailable"


def test_answers_names_the_plugin_of_each_answer():
    manager = build_plugin_manager([f"{SAMPLES}.good", f"{SAMPLES}.raising"], entry_points=False)
    results = manager.answers(manager.hook.gnews_agencies)
    assert [r.plugin for r in results] == [f"{SAMPLES}.good"]
    assert manager.failed_plugins(since=0) == {f"{SAMPLES}.raising"}


def test_a_wrapper_wraps_the_call_and_changes_its_result():
    manager = build_plugin_manager(
        [f"{SAMPLES}.good", f"{SAMPLES}.wrapping", f"{SAMPLES}.gac_listings"], entry_points=False
    )
    answers = manager.hook.gnews_agencies()
    # The wrapper dropped the good sample's answer and added its own; pluggy returned that.
    assert codes(answers) == ["plain-agency", "trusted-agency", "wrapped"]
    assert answers[-1] is wrapping.ADDED
    attributed = {r.plugin: r.value for r in manager.answers(manager.hook.gnews_agencies)}
    assert attributed[f"{SAMPLES}.wrapping"] is wrapping.ADDED  # put in by the wrapper
    assert f"{SAMPLES}.gac_listings" in attributed and f"{SAMPLES}.good" not in attributed
    assert manager.failures == []


def test_an_old_style_wrapper_gets_the_result_and_may_force_another():
    old_style_wrapping.seen.clear()
    manager = build_plugin_manager(
        [f"{SAMPLES}.good", f"{SAMPLES}.old_style_wrapping"], entry_points=False
    )
    answers = manager.hook.gnews_agencies()
    assert [spec.code for answer in answers for spec in answer] == ["forced", "nakhonsawan"]
    assert codes(old_style_wrapping.seen[0]) == ["nakhonsawan"]
    assert manager.failures == []


def test_declarations_are_collected_from_what_a_wrapper_returns():
    """The sync declares what the wrapped call returned, not each implementation's answer."""
    manager = build_plugin_manager([f"{SAMPLES}.good", f"{SAMPLES}.wrapping"], entry_points=False)
    declared = manager.collect("gnews_agencies", AgencySpec)
    assert [(plugin, spec.code) for plugin, spec in declared] == [
        (f"{SAMPLES}.wrapping", "wrapped")
    ]


@pytest.mark.parametrize(
    ("wrapper", "error"),
    [
        (RaisesBeforeYield, "RuntimeError: wrapper set-up failed"),
        (RaisesAfterYield, "RuntimeError: wrapper teardown failed"),
        (OldStyleRaisesAfterYield, "RuntimeError: old-style teardown failed"),
        (ReturnsNone, "TypeError: hook wrapper returned NoneType, not a list"),
    ],
)
def test_a_raising_wrapper_is_passed_over(wrapper, error):
    manager = build_plugin_manager([f"{SAMPLES}.good"], entry_points=False)
    manager.register(wrapper(), name="broken-wrapper")
    assert codes(manager.hook.gnews_agencies()) == ["nakhonsawan"]
    assert [(f.plugin, f.hook, f.error) for f in manager.failures] == [
        ("broken-wrapper", "gnews_agencies", error)
    ]


class Answer:
    """A plugin answering ``gnews_test_pick`` with a fixed value (None: no answer)."""

    def __init__(self, value: str | None, calls: list[str]) -> None:
        self.value = value
        self.calls = calls

    @hookimpl
    def gnews_test_pick(self, value):
        self.calls.append(f"{self.value}:{value}")
        return self.value


class Raise:
    """A plugin whose ``gnews_test_pick`` raises."""

    @hookimpl
    def gnews_test_pick(self, value):
        raise RuntimeError("cannot pick")


def test_a_firstresult_hook_stops_at_the_first_answer_that_is_not_none():
    manager = build_plugin_manager(entry_points=False)
    manager.add_hookspecs(pick_spec)
    calls: list[str] = []
    # pluggy calls the last registered first: no answer, then a failure, then "b", then "a".
    manager.register(Answer("a", calls), name="a")
    manager.register(Answer("b", calls), name="b")
    manager.register(Raise(), name="raising")
    manager.register(Answer(None, calls), name="silent")
    assert manager.hook.gnews_test_pick(value="x") == "b"
    assert calls == ["None:x", "b:x"]  # "a" was never called
    assert [(f.plugin, f.hook) for f in manager.failures] == [("raising", "gnews_test_pick")]
    [result] = manager.answers(manager.hook.gnews_test_pick, value="y")
    assert (result.plugin, result.value) == ("b", "b")


def test_a_firstresult_hook_with_no_answer_gives_none():
    manager = build_plugin_manager(entry_points=False)
    manager.add_hookspecs(pick_spec)
    manager.register(Answer(None, []), name="silent")
    assert manager.hook.gnews_test_pick(value="x") is None
    assert manager.answers(manager.hook.gnews_test_pick, value="x") == []


def test_an_async_implementation_that_fails_when_awaited_is_recorded():
    manager = build_plugin_manager(
        [f"{SAMPLES}.good", f"{SAMPLES}.async_raising"], entry_points=False
    )
    pending = manager.hook.gnews_startup(app="the-app")
    assert len(pending) == 2  # two coroutines, each guarded

    async def await_all():
        return [await started for started in pending]

    assert asyncio.run(await_all()) == [None, None]
    assert [(f.plugin, f.hook, f.error) for f in manager.failures] == [
        (async_raising.__name__, "gnews_startup", "RuntimeError: async start-up failed")
    ]


def test_tracing_logs_each_call_with_its_plugins_arguments_and_durations():
    manager = build_plugin_manager([f"{SAMPLES}.good", f"{SAMPLES}.raising"], entry_points=False)
    with capture_logs() as untraced:
        manager.hook.gnews_agencies()
    assert not [e for e in untraced if e["event"].startswith("plugin hook")]

    manager.set_tracing(True)
    with capture_logs() as logs:
        manager.hook.gnews_item_provinces(item=Item())
        manager.hook.gnews_agencies()
    impls = [e for e in logs if e["event"] == "plugin hook"]
    calls = [e for e in logs if e["event"] == "plugin hook call"]
    assert [(e["plugin"], e["hook"]) for e in impls] == [
        ("gnews.news.tagging", "gnews_item_provinces"),
        (f"{SAMPLES}.raising", "gnews_agencies"),
        (f"{SAMPLES}.good", "gnews_agencies"),
    ]
    assert [e["answered"] for e in impls] == [True, False, True]
    assert [e.get("raised", False) for e in impls] == [False, True, False]
    assert impls[0]["args"] == "item=Item(key='entry-1')"
    assert [(e["hook"], e["plugins"]) for e in calls] == [
        ("gnews_item_provinces", ["gnews.news.tagging"]),
        ("gnews_agencies", [f"{SAMPLES}.raising", f"{SAMPLES}.good"]),
    ]
    assert calls[0]["args"] == "item=Item(key='entry-1')"
    for entry in impls + calls:
        assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0

    manager.set_tracing(False)
    with capture_logs() as after:
        manager.hook.gnews_agencies()
    assert not [e for e in after if e["event"].startswith("plugin hook")]


class Item:
    """What the province tagger reads of an item."""

    key = "entry-1"
    title = "ข่าวจังหวัดนครสวรรค์"
    summary = ""
    content_html = ""


def test_the_trace_setting_switches_tracing_on(monkeypatch):
    from gnews.config import load_settings

    monkeypatch.setenv("GNEWS_TRACE_PLUGINS", "1")
    settings = load_settings()
    assert settings.trace_plugins is True
    manager = build_plugin_manager(entry_points=False, trace=settings.trace_plugins)
    with capture_logs() as logs:
        manager.hook.gnews_item_provinces(item=Item())
    assert [e["plugin"] for e in logs if e["event"] == "plugin hook"] == ["gnews.news.tagging"]
