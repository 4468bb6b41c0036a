"""A Python client generated from the live OpenAPI document (openapi-python-client, as
``make clients`` does) drives the mobile journey against the API served by uvicorn: register a
device, read its feed, search, read the inbox, mark a notification opened, and handle errors as
the typed error model.

The client is generated once per module into a temporary directory (about ten seconds), not
committed: it is a build product of the document this test checks.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.contract.live import LiveAPI, live_settings, serve_live
from tests.contract.seed import NEWS_TITLES, Seeded, deliver, seed_database
from tests.support.push import fcm_token

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "gnews_api_client"


@pytest.fixture(scope="module")
def live(servers, tmp_path_factory) -> Iterator[LiveAPI]:
    settings_ = live_settings(
        servers.mongodb_uri, servers.redis_url, tmp_path_factory.mktemp("journey") / "var"
    )
    with serve_live(settings_) as api:
        yield api


@pytest.fixture(scope="module")
def seeded(live: LiveAPI) -> Seeded:
    return live.run(seed_database())


@pytest.fixture(scope="module")
def gen(live: LiveAPI, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The generated package, imported: ``gen.api`` (modules by tag) and ``gen.models``."""
    out = tmp_path_factory.mktemp("client")
    document = out / "openapi.json"
    response = httpx.get(f"{live.url}/schema/openapi.json", timeout=120)
    document.write_bytes(response.raise_for_status().content)
    config = out / "config.yaml"
    config.write_text(
        (ROOT / "clients/openapi-python-client.yaml").read_text() + "post_hooks: []\n"
    )
    generated = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document),
         "--output-path", str(out / "python"), "--config", str(config), "--overwrite"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout, generated.stdout  # every schema became a model
    sys.path.insert(0, str(out / "python"))
    try:
        yield SimpleNamespace(
            client=importlib.import_module(f"{PACKAGE}.client"),
            models=importlib.import_module(f"{PACKAGE}.models"),
            register=importlib.import_module(f"{PACKAGE}.api.devices.register_device"),
            feed=importlib.import_module(f"{PACKAGE}.api.devices.device_feed"),
            inbox=importlib.import_module(f"{PACKAGE}.api.devices.inbox"),
            opened=importlib.import_module(f"{PACKAGE}.api.devices.opened_notification"),
            list_news=importlib.import_module(f"{PACKAGE}.api.news.list_news"),
            get_news=importlib.import_module(f"{PACKAGE}.api.news.get_news"),
        )
    finally:
        sys.path.remove(str(out / "python"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_the_mobile_journey_with_the_generated_client(gen, live, seeded):
    models = gen.models
    anonymous = gen.client.Client(base_url=live.url)

    registered = gen.register.sync_detailed(
        client=anonymous,
        body=models.DeviceIn(platform="android", push_token=fcm_token(7), provinces=["TH-50"]),
    )
    assert registered.status_code == 201
    device = registered.parsed
    assert isinstance(device, models.RegisteredDeviceOut) and device.secret
    phone = gen.client.AuthenticatedClient(base_url=live.url, token=device.secret, prefix="Device")

    feed = gen.feed.sync(device.id, client=phone, limit=10)
    assert isinstance(feed, models.NewsPage)
    assert [item.title for item in feed.items] == list(NEWS_TITLES)

    found = gen.list_news.sync(client=anonymous, q="ฝุ่น เชียงใหม่")
    assert isinstance(found, models.NewsPage)
    assert found.items and found.items[0].title == "ค่าฝุ่น PM2.5 เชียงใหม่เกินมาตรฐาน"

    live.run(deliver(seeded.notification_id, device.id))
    inbox = gen.inbox.sync(device.id, client=phone)
    assert isinstance(inbox, models.InboxPage)
    (entry,) = inbox.items
    assert entry.id == seeded.notification_id and entry.title == "แจ้งเตือนฝนตกหนัก"
    assert entry.opened is False

    opened = gen.opened.sync_detailed(device.id, entry.id, client=phone)
    assert opened.status_code == 204
    assert gen.inbox.sync(device.id, client=phone).items[0].opened is True


def test_errors_parse_as_the_error_model(gen, live, seeded):
    models = gen.models
    anonymous = gen.client.Client(base_url=live.url)

    missing = gen.get_news.sync_detailed("000000000000000000000000", client=anonymous)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.ErrorBody)
    assert missing.parsed.error.code == "not_found" and missing.parsed.error.request_id

    invalid = gen.register.sync_detailed(
        client=anonymous,
        body=models.DeviceIn(platform="android", push_token=fcm_token(8), provinces=["TH-99"]),
    )
    assert invalid.status_code == 422
    error = invalid.parsed.error
    assert isinstance(error, models.ErrorDetail) and error.code == "validation_error"
    assert [problem.field for problem in error.fields] == ["provinces"]

    stranger = gen.client.AuthenticatedClient(base_url=live.url, token="wrong", prefix="Device")
    refused = gen.inbox.sync_detailed("000000000000000000000000", client=stranger)
    assert refused.status_code == 404 and isinstance(refused.parsed, models.ErrorBody)
    unsigned = gen.inbox.sync_detailed("000000000000000000000000", client=anonymous)
    assert unsigned.status_code == 401 and unsigned.parsed.error.code == "unauthorized"
