"""`gnews check` tells when push is off for a platform (every such device would fail with
``no_transport``), and passes when both gateways are configured. Real processes, real servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gnews.config import Settings
from gnews.dev.emulators.suite import PushEmulators
from tests.workers.fanout.conftest import add_devices


def check(settings: Settings, tmp_path: Path, **push: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
    env.update(
        GNEWS_MONGODB_URI=settings.mongodb_uri or "",
        GNEWS_REDIS_URL=settings.redis_url or "",
        GNEWS_MONGODB_DB=settings.mongodb_db,
        GNEWS_DATA_DIR=str(tmp_path / "var"),
        GNEWS_DISABLED_PLUGINS="ega,nakhonsawan,dopa",
        **push,
    )
    return subprocess.run(
        [sys.executable, "-m", "gnews", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_check_says_push_is_off_and_how_many_devices_it_fails(
    client, settings: Settings, emulators: PushEmulators, tmp_path: Path
):
    devices = await add_devices(7, seed=3)
    ios = sum(d.platform == "ios" for d in devices)
    android = len(devices) - ios

    nothing = check(settings, tmp_path)
    assert nothing.returncode == 1
    assert "all checks passed" not in nothing.stdout
    assert f"push to android: off; {android} active android devices" in nothing.stdout
    assert f"push to ios: off; {ios} active ios devices would fail with no_transport" in (
        nothing.stdout
    )
    assert "GNEWS_FCM_CREDENTIALS is not set" in nothing.stderr  # what is missing

    env = emulators.env()
    fcm_only = {k: v for k, v in env.items() if k.startswith("GNEWS_FCM_")}
    half = check(settings, tmp_path, **fcm_only)
    assert half.returncode == 1
    assert "push to android: on (FcmTransport)" in half.stdout
    assert "problem: push to ios is off" in half.stderr

    both = check(settings, tmp_path, **env)
    assert both.returncode == 0, both.stdout + both.stderr
    assert "push to ios: on (ApnsTransport)" in both.stdout
    assert "all checks passed" in both.stdout
