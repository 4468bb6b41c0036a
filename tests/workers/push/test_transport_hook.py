"""`gnews_push_transports`: the built-in FCM and APNs transports and plugins' own channels."""

from __future__ import annotations

from gnews.config import load_settings
from gnews.plugins import build_plugin_manager
from workers.push import BUILTIN_TRANSPORTS, close_transports, load_transports
from workers.push.apns import ApnsTransport
from workers.push.fcm import FcmTransport

from .conftest import message
from .transport_plugins import broken

PLUGINS = "tests.workers.push.transport_plugins"


def emulator_settings(emulators, **overrides):
    env = {name.removeprefix("GNEWS_").lower(): value for name, value in emulators.env().items()}
    return load_settings(**{**env, **overrides})


async def test_builtin_transports_come_through_the_hook(emulators):
    manager = build_plugin_manager(entry_points=False)
    transports = load_transports(manager, emulator_settings(emulators))
    try:
        assert isinstance(transports["android"], FcmTransport)
        assert isinstance(transports["ios"], ApnsTransport)
        info = next(i for i in manager.describe() if i.name == BUILTIN_TRANSPORTS)
        assert (info.origin, info.hooks) == (
            "built-in",
            ["gnews_push_platforms", "gnews_push_transports"],
        )
        [sent] = await transports["android"].send(message(), ["token-a"])
        assert sent.status == "sent"
    finally:
        await close_transports(transports)
    assert manager.failures == []


def test_the_builtin_transports_are_a_default_plugin_called_through_pluggy(emulators):
    manager = build_plugin_manager(entry_points=False)  # registered here, not by the worker
    assert manager.origins[BUILTIN_TRANSPORTS] == ("built-in", None)
    offered = manager.hook.gnews_push_transports(settings=emulator_settings(emulators))
    assert sorted(transport.platform for answer in offered for transport in answer) == [
        "android",
        "huawei",
        "ios",
    ]  # Web Push: not configured here


async def test_a_plugin_adds_a_channel(emulators):
    manager = build_plugin_manager([f"{PLUGINS}.line"], entry_points=False)
    transports = load_transports(manager, emulator_settings(emulators))
    assert sorted(transports) == ["android", "huawei", "ios", "line"]
    line = transports["line"]
    outcomes = await line.send(message(), ["U123", "U456"])
    assert [o.status for o in outcomes] == ["sent", "sent"]
    await close_transports(transports)
    assert line.closed


async def test_a_plugin_may_replace_a_builtin_transport(emulators):
    manager = build_plugin_manager([f"{PLUGINS}.android_override"], entry_points=False)
    transports = load_transports(manager, emulator_settings(emulators))
    assert type(transports["android"]).__name__ == "OtherAndroidTransport"
    assert isinstance(transports["ios"], ApnsTransport)
    await close_transports(transports)


def test_unconfigured_gateways_have_no_transport():
    manager = build_plugin_manager(entry_points=False)
    settings = load_settings(fcm_credentials=None, apns_key_file=None)
    assert load_transports(manager, settings) == {}
    assert manager.failures == []


def test_the_builtin_transports_can_be_disabled(emulators):
    manager = build_plugin_manager(
        entry_points=False, disabled=[BUILTIN_TRANSPORTS, "workers.push.hms"]
    )
    assert load_transports(manager, emulator_settings(emulators)) == {}


def test_a_broken_plugin_is_reported_and_the_others_still_load(emulators):
    manager = build_plugin_manager(entry_points=False)
    manager.register(broken.Raising(), name="raising")
    manager.register(broken.NotATransport(), name="not-a-transport")
    transports = load_transports(manager, emulator_settings(emulators))
    assert sorted(transports) == ["android", "huawei", "ios"]
    failures = {(f.plugin, f.hook) for f in manager.failures}
    assert failures == {
        ("raising", "gnews_push_transports"),
        ("not-a-transport", "gnews_push_transports"),
    }


def test_a_bad_key_file_switches_off_only_its_platform(emulators, tmp_path):
    bad = tmp_path / "bad.p8"
    bad.write_text("not a key")
    manager = build_plugin_manager(entry_points=False)
    transports = load_transports(manager, emulator_settings(emulators, apns_key_file=bad))
    assert sorted(transports) == ["android", "huawei"]
