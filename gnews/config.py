"""Configuration: ``GNEWS_*`` environment variables, read once with pydantic-settings.

Every setting is documented in ``docs/configuration.md``. A bad value stops start-up with one
clear line (see :func:`load_settings`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32


class ConfigurationError(Exception):
    """A setting has a bad value; the message is one line meant for the operator."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """All run-time settings of the API, the worker and the CLI."""

    model_config = SettingsConfigDict(env_prefix="GNEWS_", extra="ignore", frozen=True)

    env: Literal["dev", "production"] = "dev"
    data_dir: Path = Path("var")
    mongodb_uri: str | None = None
    mongodb_db: str = Field("gnews", pattern=r"^[A-Za-z0-9_-]{1,63}$")
    redis_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=1, le=65535)
    secret_key: SecretStr | None = None
    plugins: Annotated[list[str], NoDecode] = []
    disabled_plugins: Annotated[list[str], NoDecode] = []
    trace_plugins: bool = False  # log every plugin hook call (docs/plugins.md#tracing-hook-calls)
    cors_origins: Annotated[list[str], NoDecode] = []
    feed_allow_private_networks: bool = False
    # Agencies' images cached for the pages (gnews/media): the largest stored, in bytes (a
    # MongoDB document holds at most 16 MB).
    media_max_bytes: int = Field(5 * 1024 * 1024, ge=1024, le=15 * 1024 * 1024)
    max_request_body_bytes: int = Field(1_048_576, ge=1024)
    jwt_ttl_seconds: int = Field(3600, ge=60, le=30 * 86400)
    # Console sessions (gnews/console/sessions.py): ended after this long without a request,
    # and this long after signing in whatever happens.
    console_idle_seconds: int = Field(1800, ge=1, le=86400)
    console_max_seconds: int = Field(12 * 3600, ge=1, le=7 * 86400)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    db_timeout_ms: int = Field(2000, ge=100, le=60_000)
    build_indexes: bool = True  # at start-up; False: `gnews db indexes` builds them
    # Citizen API budgets, per client IP (IPv6: per /64) and minute, kept in Redis; 0 = no limit.
    rate_limit_registrations: int = Field(20, ge=0)
    rate_limit_reads: int = Field(600, ge=0)
    trusted_proxies: Annotated[list[str], NoDecode] = []
    # Push gateways (docs/push.md). The endpoints default to the real Google and Apple hosts;
    # `gnews dev` points them at its emulators when neither endpoint nor credentials are set.
    fcm_endpoint: str = "https://fcm.googleapis.com"
    fcm_credentials: Path | None = None
    apns_endpoint: str = "https://api.push.apple.com"
    apns_key_file: Path | None = None
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_topic: str | None = None
    # Huawei Push Kit (HMS, docs/push.md#huawei-push-kit-hms): the app's id and its OAuth 2.0
    # client (client id defaults to the app id); `gnews dev` points them at its emulator.
    hms_app_id: str | None = None
    hms_client_id: str | None = None
    hms_client_secret: SecretStr | None = None
    hms_token_endpoint: str = "https://oauth-login.cloud.huawei.com/oauth2/v3/token"
    hms_push_endpoint: str = "https://push-api.cloud.huawei.com"
    # Web Push (docs/push.md#web-push-browsers): the VAPID key (PEM, P-256) the server signs with
    # and its contact (mailto: or https:); `gnews dev` generates a development key.
    webpush_vapid_key_file: Path | None = None
    webpush_vapid_subject: str | None = Field(None, pattern=r"^(mailto:\S+@\S+|https://\S+)$")
    # Push fan-out (docs/operations.md#push-notifications): devices per push batch, the lease of
    # a claimed batch or fan-out, how often the reconciler runs, batches one worker sends at once.
    push_batch_size: int = Field(500, ge=1, le=500)
    push_lease_seconds: float = Field(30.0, ge=1, le=600)
    push_reconcile_seconds: int = Field(15, ge=1, le=60)
    push_send_concurrency: int = Field(8, ge=1, le=64)
    # Retention (workers/jobs/retention.py), in days, 0 = keep for good: push batches of finished
    # notifications (the notification and its stats are always kept) and inbox entries.
    push_batch_retention_days: int = Field(30, ge=0, le=3650)
    inbox_retention_days: int = Field(90, ge=0, le=3650)
    # Prometheus metrics (docs/operations.md#metrics): who may read /metrics (the API's) and the
    # worker's own endpoint: clients in these networks, or with this bearer token.
    metrics_allow_networks: Annotated[list[str], NoDecode] = ["127.0.0.0/8", "::1/128"]
    metrics_token: SecretStr | None = None
    worker_metrics_port: int = Field(9464, ge=0, le=65535)  # 0: the worker serves no metrics
    # `gnews dev` (docs/operations.md#gnews-dev): ports of what it starts; 0 = a free port.
    dev_mongodb_port: int = Field(0, ge=0, le=65535)
    dev_redis_port: int = Field(0, ge=0, le=65535)
    dev_fcm_port: int = Field(8470, ge=0, le=65535)
    dev_apns_port: int = Field(8471, ge=0, le=65535)
    dev_webpush_port: int = Field(0, ge=0, le=65535)  # its subscriptions live in memory anyway
    # The public site and shared links (docs/site.md, docs/configuration.md#public-site): the
    # https origin citizens see (absolute links in pages, feeds, OpenGraph, pushes; unset: the
    # request's own origin, or http://<http_host>:<http_port> outside a request), and the apps
    # that open its links (Android App Links, iOS Universal Links).
    public_base_url: str | None = None
    android_package: str = "th.go.ega.gnews"
    android_cert_fingerprints: Annotated[list[str], NoDecode] = []
    ios_app_ids: Annotated[list[str], NoDecode] = []

    _split_lists = field_validator(
        "plugins",
        "disabled_plugins",
        "cors_origins",
        "trusted_proxies",
        "metrics_allow_networks",
        "android_cert_fingerprints",
        "ios_app_ids",
        mode="before",
    )(_split_csv)

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// in development)")
        return value.rstrip("/") if value else None

    @field_validator("android_cert_fingerprints")
    @classmethod
    def _check_fingerprints(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}", entry):
                raise ValueError(f"not a SHA-256 fingerprint (AA:BB:... 32 bytes): {entry!r}")
        return [entry.upper() for entry in value]

    @field_validator("ios_app_ids")
    @classmethod
    def _check_app_ids(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.fullmatch(r"[A-Z0-9]{10}\.[A-Za-z0-9.-]+", entry):
                raise ValueError(f"not <team id>.<bundle id>: {entry!r}")
        return value

    @field_validator("trusted_proxies", "metrics_allow_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
        return value

    @field_validator("fcm_endpoint", "apns_endpoint", "hms_token_endpoint", "hms_push_endpoint")
    @classmethod
    def _check_push_endpoint(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for an emulator)")
        return value.rstrip("/")

    @field_validator("mongodb_uri")
    @classmethod
    def _check_mongodb_uri(cls, value: str | None) -> str | None:
        if value and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @model_validator(mode="after")
    def _production_needs_real_services(self) -> Settings:
        if self.env == "production":
            missing = [
                name
                for name, value in (
                    ("GNEWS_SECRET_KEY", self.secret_key),
                    ("GNEWS_MONGODB_URI", self.mongodb_uri),
                    ("GNEWS_REDIS_URL", self.redis_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"{', '.join(missing)} required when GNEWS_ENV=production")
            assert self.secret_key is not None
            if len(self.secret_key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(f"GNEWS_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} chars")
        return self

    @property
    def is_production(self) -> bool:
        """True when running with ``GNEWS_ENV=production``."""
        return self.env == "production"

    def public_origin(self, request_origin: str | None = None) -> str:
        """The public site's origin for absolute links: ``public_base_url``, else the origin
        the request came to, else ``http://<http_host>:<http_port>`` (e.g. for pushes)."""
        origin = self.public_base_url or request_origin
        return (origin or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def json_logs(self) -> bool:
        """Whether logs are JSON lines (production default) or human-readable."""
        if self.log_format == "auto":
            return self.is_production
        return self.log_format == "json"

    @cached_property
    def signing_key(self) -> str:
        """The token-signing secret: configured, or generated once and kept in the data dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting at once must not each write a different key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if not field:
        return message
    value = first.get("input")
    shown = "" if field == "secret_key" or isinstance(value, dict) else f" (got {value!r})"
    return f"GNEWS_{field.upper()}: {message}{shown}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment; raise ConfigurationError with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigurationError(f"configuration error: {_describe(error)}") from None
