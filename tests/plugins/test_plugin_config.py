"""`plugin_config`: a plugin's own settings, from ``GNEWS_PLUGIN_<NAME>_<KEY>`` variables."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gnews.specs import PluginConfigError, plugin_config, plugin_config_variable

EGA_PLUGIN = Path(__file__).parents[2] / "plugins" / "ega" / "gnews_ega" / "__init__.py"


def test_a_plugin_reads_its_own_variables_by_lower_case_key(monkeypatch):
    monkeypatch.setenv("GNEWS_PLUGIN_LINE_CHANNEL_TOKEN", "s3cret")
    monkeypatch.setenv("GNEWS_PLUGIN_LINE_BATCH", "100")
    monkeypatch.setenv("GNEWS_PLUGIN_LINEX_CHANNEL_TOKEN", "another plugin's")
    monkeypatch.setenv("GNEWS_LINE_CHANNEL_TOKEN", "not a plugin setting")
    config = plugin_config("line")
    assert dict(config) == {"channel_token": "s3cret", "batch": "100"}
    assert config["CHANNEL_TOKEN"] == config.get("channel_token") == "s3cret"
    assert config.get("missing") is None and config.get("missing", "x") == "x"
    assert config.require("batch") == "100"
    assert "s3cret" not in repr(config)  # values may be secrets


def test_require_names_the_variable_to_set(monkeypatch):
    monkeypatch.setenv("GNEWS_PLUGIN_LINE_CHANNEL_TOKEN", "")
    config = plugin_config("line")
    with pytest.raises(PluginConfigError, match=r"GNEWS_PLUGIN_LINE_CHANNEL_TOKEN is not set"):
        config.require("channel_token")
    with pytest.raises(PluginConfigError, match=r"GNEWS_PLUGIN_LINE_REGION is not set"):
        config.require("region")


def test_plugin_names_and_keys_become_variable_names():
    assert plugin_config_variable("web-push", "vapid.key") == "GNEWS_PLUGIN_WEB_PUSH_VAPID_KEY"
    assert plugin_config_variable("gnews_moph", "Feed") == "GNEWS_PLUGIN_GNEWS_MOPH_FEED"


def test_module_path_plugins_have_variables_too(monkeypatch):
    monkeypatch.setenv("GNEWS_PLUGIN_TESTS_PLUGINS_SAMPLES_GOOD_REGION", "north")
    assert plugin_config("tests.plugins.samples.good") == {"region": "north"}


def test_the_environment_is_read_at_each_call(monkeypatch):
    assert "token" not in plugin_config("line")
    monkeypatch.setenv("GNEWS_PLUGIN_LINE_TOKEN", "t")
    assert plugin_config("line")["token"] == "t"


def load_ega_plugin():
    """This tree's EGA plugin (the installed one may be another checkout's)."""
    spec = importlib.util.spec_from_file_location("gnews_ega_under_test", EGA_PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_ega_plugin_reads_its_feed_url_through_the_accessor(monkeypatch):
    ega = load_ega_plugin()
    monkeypatch.delenv("GNEWS_PLUGIN_EGA_FEED_URL", raising=False)
    [source] = ega.gnews_news_sources()
    assert str(source.feed_url) == ega.FEED_URL
    monkeypatch.setenv("GNEWS_PLUGIN_EGA_FEED_URL", "https://mirror.example.go.th/dga/feed/")
    [source] = ega.gnews_news_sources()
    assert str(source.feed_url) == "https://mirror.example.go.th/dga/feed/"
