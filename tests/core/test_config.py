"""GNEWS_* settings: defaults, one-line errors, production requirements, the dev secret."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gnews.config import ConfigurationError, load_settings


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("GNEWS_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults(clean_env):
    settings = load_settings()
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8000)
    assert str(settings.data_dir) == "var" and settings.env == "dev"
    assert settings.mongodb_uri is None and settings.redis_url is None and settings.plugins == []
    assert (settings.push_batch_retention_days, settings.inbox_retention_days) == (30, 90)


def test_values_come_from_gnews_variables(clean_env):
    clean_env.setenv("GNEWS_HTTP_PORT", "9001")
    clean_env.setenv("GNEWS_PLUGINS", "agency_one.plugin, agency_two ,")
    clean_env.setenv("GNEWS_CORS_ORIGINS", "https://gnews.go.th,https://admin.gnews.go.th")
    clean_env.setenv("GNEWS_MONGODB_URI", "mongodb://db.internal:27017")
    settings = load_settings()
    assert settings.http_port == 9001
    assert settings.plugins == ["agency_one.plugin", "agency_two"]
    assert settings.cors_origins == ["https://gnews.go.th", "https://admin.gnews.go.th"]
    assert settings.mongodb_uri == "mongodb://db.internal:27017"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("GNEWS_HTTP_PORT", "eighty", "GNEWS_HTTP_PORT"),
        ("GNEWS_HTTP_PORT", "70000", "GNEWS_HTTP_PORT"),
        ("GNEWS_ENV", "staging", "GNEWS_ENV"),
        ("GNEWS_MONGODB_URI", "postgres://x", "GNEWS_MONGODB_URI"),
        ("GNEWS_REDIS_URL", "http://x", "GNEWS_REDIS_URL"),
        ("GNEWS_LOG_LEVEL", "LOUD", "GNEWS_LOG_LEVEL"),
        ("GNEWS_PUSH_BATCH_RETENTION_DAYS", "-1", "GNEWS_PUSH_BATCH_RETENTION_DAYS"),
        ("GNEWS_INBOX_RETENTION_DAYS", "3651", "GNEWS_INBOX_RETENTION_DAYS"),
    ],
)
def test_a_bad_value_is_one_clear_line_naming_the_variable(clean_env, name, value, expected):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message and message.startswith("configuration error: " + expected)


def test_production_requires_secret_and_real_servers(clean_env):
    clean_env.setenv("GNEWS_ENV", "production")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "GNEWS_SECRET_KEY" in str(caught.value) and "GNEWS_MONGODB_URI" in str(caught.value)
    clean_env.setenv("GNEWS_SECRET_KEY", "short")
    clean_env.setenv("GNEWS_MONGODB_URI", "mongodb://db:27017")
    clean_env.setenv("GNEWS_REDIS_URL", "redis://redis:6379/0")
    with pytest.raises(ConfigurationError, match="at least 32"):
        load_settings()
    clean_env.setenv("GNEWS_SECRET_KEY", "x" * 40)
    assert load_settings().signing_key == "x" * 40


def test_dev_secret_is_generated_once_and_kept(clean_env, tmp_path):
    first = load_settings(data_dir=tmp_path).signing_key
    assert len(first) >= 32
    assert load_settings(data_dir=tmp_path).signing_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_cli_reports_a_bad_value_in_one_line(tmp_path):
    env = {**os.environ, "GNEWS_HTTP_PORT": "not-a-port", "GNEWS_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "gnews", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "GNEWS_HTTP_PORT" in lines[0], result.stderr
