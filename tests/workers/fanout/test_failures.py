"""Delivery survives failures: a worker process killed with SIGKILL in the middle of a fan-out,
and Redis restarted (empty) in the middle of one. Every targeted device still gets the message;
duplicates are limited to the batches the killed worker had in flight."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from gnews.app import create_app
from gnews.config import Settings
from gnews.dev.embedded import free_port, start_redis
from gnews.dev.emulators.suite import PushEmulators
from gnews.notifications.models import (
    BatchStatus,
    InboxEntry,
    Notification,
    NotificationStatus,
    PushBatch,
)
from gnews.plugins import build_plugin_manager
from tests.support.api import serve_app
from tests.support.notifications import note
from tests.workers.fanout.conftest import (
    BUNDLED_PLUGINS,
    add_devices,
    eventually,
    received,
    running_worker,
    settled,
)


def worker_env(settings: Settings, emulators: PushEmulators, data_dir: Path) -> dict[str, str]:
    """The environment of a `gnews worker` process for this test's servers and emulators."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
    env.update(emulators.env())
    env.update(
        GNEWS_MONGODB_URI=settings.mongodb_uri or "",
        GNEWS_MONGODB_DB=settings.mongodb_db,
        GNEWS_REDIS_URL=settings.redis_url or "",
        GNEWS_DATA_DIR=str(data_dir),
        GNEWS_DISABLED_PLUGINS=",".join(BUNDLED_PLUGINS),
        GNEWS_PUSH_BATCH_SIZE=str(settings.push_batch_size),
        GNEWS_PUSH_LEASE_SECONDS=str(settings.push_lease_seconds),
        GNEWS_PUSH_RECONCILE_SECONDS="1",
    )
    return env


async def test_a_worker_killed_mid_fanout_loses_nothing(
    client, push_settings, emulators, auth_headers, tmp_path
):
    devices = await add_devices(3000, provinces=[["TH-60"], ["TH-60"], ["TH-10"]], seed=31)
    targeted = {d.push_token for d in devices if "TH-60" in d.provinces}
    emulators.fcm.faults.latency = emulators.apns.faults.latency = 0.05
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "gnews", "worker"],
            env=worker_env(push_settings, emulators, tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        response = await client.post(
            "/api/v1/notifications", json=note(), headers=await auth_headers("editor")
        )
        nid = response.json()["id"]

        async def sending_midway() -> bool:
            assert worker.poll() is None, log.read_text()
            batches = await PushBatch.find({"notification_id": nid}).to_list()
            statuses = Counter(b.status for b in batches)
            return statuses[BatchStatus.DONE] >= 3 and statuses[BatchStatus.CLAIMED] >= 2

        await eventually(sending_midway, timeout=60)
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    at_kill = await Notification.get(nid)
    in_flight = await PushBatch.find({"notification_id": nid, "status": "claimed"}).to_list()
    assert in_flight  # the killed worker held these

    # Another worker takes over once the leases expire.
    async with running_worker(push_settings):
        notification = await settled(nid, timeout=60)
    assert notification.status is NotificationStatus.DONE
    counts = received(emulators)
    assert set(counts) == targeted  # everyone targeted, no one else
    # Duplicates: only devices of batches the killed worker was sending, which are among those
    # it had claimed and at most as many as its send slots hold (claimed batches still waiting
    # for a slot had sent nothing).
    duplicates = sum(count - 1 for count in counts.values())
    assert duplicates <= sum(batch.size for batch in in_flight)
    assert duplicates <= push_settings.push_send_concurrency * push_settings.push_batch_size
    stats = notification.stats
    assert stats.targeted == stats.sent == len(targeted) and stats.skipped == 0
    inbox = Counter(e.device_id for e in await InboxEntry.find({"notification_id": nid}).to_list())
    assert len(inbox) == len(targeted) and set(inbox.values()) == {1}
    # Either the fan-out itself was cut short, or only the sending was.
    assert at_kill.status in (NotificationStatus.FANNING_OUT, NotificationStatus.SENDING)
    if at_kill.status is NotificationStatus.FANNING_OUT:
        assert notification.fanout_runs == 2


async def test_redis_restarted_mid_fanout_the_notification_still_completes(
    client, push_settings, emulators, auth_headers, tmp_path
):
    devices = await add_devices(2000, provinces=[["TH-60"]], seed=41)
    headers = await auth_headers("editor")
    port = free_port()
    servers = [start_redis(tmp_path, port, persist=False)]
    own = push_settings.model_copy(update={"redis_url": servers[0].url, "push_send_concurrency": 2})
    emulators.fcm.faults.latency = emulators.apns.faults.latency = 0.1
    app = create_app(own, plugins=build_plugin_manager(entry_points=False), setup_logging=False)
    try:
        async with serve_app(app) as http, running_worker(own) as worker:
            response = await http.post("/api/v1/notifications", json=note(), headers=headers)
            assert response.status_code == 201, response.text
            nid = response.json()["id"]

            async def some_sent() -> bool:
                return await PushBatch.find({"notification_id": nid, "status": "done"}).count() >= 2

            await eventually(some_sent)
            # More batches than the worker takes at once (50 jobs): some wait in the queue.
            waiting = await PushBatch.find({"notification_id": nid, "status": "pending"}).count()
            servers[0].stop()  # every queued job is lost with it (no persistence)
            await asyncio.sleep(1.0)
            servers.append(start_redis(tmp_path, port, persist=False))
            notification = await settled(nid, timeout=60)
            assert not worker.main_task.done()  # the worker rode it out
    finally:
        for server in servers:
            server.stop()
    assert waiting > 0
    assert notification.status is NotificationStatus.DONE
    assert set(received(emulators)) == {d.push_token for d in devices}
    assert notification.stats.sent == notification.stats.targeted == len(devices)
