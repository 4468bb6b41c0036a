"""Push fan-out benchmark: N registered devices, a notification to three provinces, then one to
everyone, then one to every Android device, end to end through MongoDB, arq and a `gnews worker`
process to both gateway emulators.

Devices are spread over the 77 provinces (70 % Android, 30 % iOS, a fifth of them in English).
For each notification it prints the time to the first and to the last delivery (from the call
that creates it), the end-to-end messages/s and the notification's figures; then the worker's
peak RSS; then, measured in the same run against the same emulators, the raw throughput of the
push transports alone (no MongoDB, no arq: the ceiling), the ratio of the two, and how the
end-to-end rate compares with FCM's default quota (600,000 messages/minute per project); and the
worker's CPU per message, overall and for FCM messages alone (the traffic that quota governs).

    .venv/bin/python bench/fanout.py [--devices 100000] [--batch-size 500]

The emulators run in their own process (`gnews emulators`, cleartext HTTP/2 for APNs); MongoDB
is the embedded nx-27017 in a temporary directory (or GNEWS_BENCH_MONGODB_URI), Redis the
embedded one. Memory stays bounded whatever N: devices are inserted and streamed in chunks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import FCM_QUOTA_PER_SECOND, EmulatorProcess, cpu_seconds
from gnews.accounts.guards import Principal
from gnews.accounts.models import Role
from gnews.core.logs import configure_logging
from gnews.core.persistence import init_documents, mongo_client, redis_client
from gnews.dev.embedded import start_mongodb, start_redis
from gnews.documents import document_models
from gnews.geo.provinces import all_provinces
from gnews.jobs import PING, enqueue
from gnews.notifications import service
from gnews.notifications.models import Notification
from gnews.specs import MAX_PUSH_BATCH, PushMessage

INSERT_CHUNK = 5_000
THREE_PROVINCES = ["TH-60", "TH-61", "TH-62"]  # Nakhon Sawan, Uthai Thani, Kamphaeng Phet
SEND_CONCURRENCY = 8  # batches a worker sends at once (GNEWS_PUSH_SEND_CONCURRENCY)
CEILING_MAX_MESSAGES = 100_000


async def accepted(http: httpx.AsyncClient, control: str) -> tuple[int, float]:
    """Messages both emulators accepted so far, and the time of the last one."""
    total, last = 0, 0.0
    for name in ("fcm", "apns"):
        body = (await http.get(f"{control}/{name}/received", params={"limit": 1})).json()
        total += body["counts"].get("accepted", 0)
        if body["messages"]:
            last = max(last, body["messages"][-1]["at"])
    return total, last


def device_documents(start: int, count: int, rnd: random.Random) -> list[dict]:
    """Devices as registration stores them, over the 77 provinces, 70 % Android."""
    provinces = [p.code for p in all_provinces()]
    now = datetime.now(UTC)
    documents = []
    for n in range(start, start + count):
        android = rnd.random() < 0.7
        token = (
            f"b{n:09d}:APA91b" + "Qw3_e-R" * 21 if android else f"{n + 1:064x}"
        )  # FCM-shaped (about 160 characters) or 64 hex digits
        documents.append(
            {
                "platform": "android" if android else "ios",
                "push_token": token,
                "provinces": [provinces[n % len(provinces)]],
                "categories": [],
                "agencies": [],
                "language": "en" if rnd.random() < 0.2 else "th",
                "app_version": "1.0.0",
                "secret_hash": f"{n:064x}",
                "active": True,
                "created_at": now,
                "updated_at": now,
                "last_seen_at": now,
            }
        )
    return documents


class WorkerProcess:
    """`gnews worker` in a child process; its peak RSS from the kernel (VmHWM)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gnews", "worker"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.log = log

    def peak_rss_mb(self) -> float:
        """The worker's peak resident set size so far, in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        """SIGTERM, then wait."""
        self.process.terminate()
        self.process.wait(timeout=30)


async def send_one(
    audience: dict,
    expected: int,
    http: httpx.AsyncClient,
    control: str,
    principal: Principal,
    worker: psutil.Process,
) -> dict:
    """Create a notification as the API does; wait for every delivery and the final figures."""
    before, _ = await accepted(http, control)
    cpu_before = cpu_seconds(worker)
    values = {
        "title_th": "ประกาศจังหวัด: น้ำท่วมถนนสายหลัก",
        "title_en": "Provincial notice: main road flooded",
        "body_th": "โปรดหลีกเลี่ยงถนนพหลโยธินช่วง กม. 250-260 จนถึงเวลา 18.00 น.",
        "body_en": "Avoid Phahonyothin Road km 250-260 until 6 pm.",
        "data": {"kind": "flood"},
        "audience": audience,
        "priority": "high",
    }
    redis = redis_client(os.environ["BENCH_REDIS_URL"])
    started = time.time()
    notification = await service.create_notification(values, principal, redis)
    first = None
    while True:
        total, last_at = await accepted(http, control)
        if first is None and total > before:
            first = time.time()
        if total - before >= expected:
            break
        await asyncio.sleep(0.02)
    while True:
        stored = await Notification.get(notification.id)
        if stored is not None and stored.settled:
            break
        await asyncio.sleep(0.1)
    await redis.aclose()
    return {
        "worker_cpu": cpu_seconds(worker) - cpu_before,
        "expected": expected,
        "delivered": total - before,
        "first": (first or last_at) - started,
        "last": last_at - started,
        "stats": stored.stats,
        "status": stored.status.value,
        "batches": stored.batches_total,
        "fanout_runs": stored.fanout_runs,
    }


async def ceiling(emulators: EmulatorProcess, android: int, ios: int) -> tuple[int, float, float]:
    """The transports alone: the same numbers of messages, 500 a batch, 8 batches at once."""
    fcm = emulators.fcm_transport()
    apns = emulators.apns_transport()
    message = PushMessage(
        notification_id=uuid.uuid4().hex[:24],
        title="ประกาศจังหวัด: น้ำท่วมถนนสายหลัก",
        body="โปรดหลีกเลี่ยงถนนพหลโยธินช่วง กม. 250-260 จนถึงเวลา 18.00 น.",
        data={"kind": "flood"},
    )
    queue: list[tuple[object, list[str]]] = []
    for start in range(0, android, MAX_PUSH_BATCH):
        count = min(MAX_PUSH_BATCH, android - start)
        queue.append(
            (fcm, [f"c{n:09d}:APA91b" + "Qw3_e-R" * 21 for n in range(start, start + count)])
        )
    for start in range(0, ios, MAX_PUSH_BATCH):
        count = min(MAX_PUSH_BATCH, ios - start)
        queue.append((apns, [f"{n + 7:064x}" for n in range(start, start + count)]))
    random.Random(1).shuffle(queue)  # platforms interleaved, as batches come from the fan-out
    sent = 0
    try:
        await fcm.send(message, ["warm-up"])
        await apns.send(message, [f"{1:064x}"])
        me = psutil.Process()
        cpu_before = cpu_seconds(me)
        started = time.perf_counter()

        async def runner() -> None:
            nonlocal sent
            while queue:
                transport, tokens = queue.pop()
                outcomes = await transport.send(message, tokens)  # type: ignore[attr-defined]
                sent += sum(o.status == "sent" for o in outcomes)

        await asyncio.gather(*(runner() for _ in range(SEND_CONCURRENCY)))
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(me) - cpu_before
    finally:
        await fcm.aclose()
        await apns.aclose()
    return sent, seconds, cpu


async def run(devices: int, batch_size: int) -> None:
    temp = Path(tempfile.mkdtemp(prefix="gnews-bench-fanout-"))
    uri = os.environ.get("GNEWS_BENCH_MONGODB_URI")
    mongodb = None if uri else start_mongodb(temp)
    redis_server = start_redis(temp, persist=False)
    os.environ["BENCH_REDIS_URL"] = redis_server.url
    emulators = EmulatorProcess(temp / "credentials")
    client = mongo_client(uri or mongodb.url, timeout_ms=60_000)  # type: ignore[union-attr]
    db_name = f"bench_{uuid.uuid4().hex[:8]}"
    worker: WorkerProcess | None = None
    results: dict[str, dict] = {}
    try:
        await init_documents(client, db_name, document_models())
        # Register the devices (as registration stores them), in chunks.
        rnd = random.Random(42)
        collection = client[db_name]["devices"]
        started = time.perf_counter()
        android = ios = in_three = android_three = 0
        for start in range(0, devices, INSERT_CHUNK):
            chunk = device_documents(start, min(INSERT_CHUNK, devices - start), rnd)
            android += sum(d["platform"] == "android" for d in chunk)
            three = [d for d in chunk if d["provinces"][0] in THREE_PROVINCES]
            in_three += len(three)
            android_three += sum(d["platform"] == "android" for d in three)
            await collection.insert_many(chunk, ordered=False)
        ios = devices - android
        registration = time.perf_counter() - started
        print(
            f"registered {devices:,} devices ({android:,} Android, {ios:,} iOS) over 77 "
            f"provinces in {registration:.1f} s",
            flush=True,
        )

        env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
        env.update(emulators.env)
        env.update(
            GNEWS_MONGODB_URI=uri or mongodb.url,  # type: ignore[union-attr]
            GNEWS_MONGODB_DB=db_name,
            GNEWS_REDIS_URL=redis_server.url,
            GNEWS_DATA_DIR=str(temp / "var"),
            GNEWS_DISABLED_PLUGINS="ega,nakhonsawan,dopa",
            GNEWS_PUSH_BATCH_SIZE=str(batch_size),
            GNEWS_PUSH_SEND_CONCURRENCY=str(SEND_CONCURRENCY),
            GNEWS_LOG_LEVEL="WARNING",
            # nx-27017 answers a query over a million devices only after minutes, blocking every
            # other request meanwhile: long socket time-outs and leases, so that nothing is
            # taken for dead while it works (a real MongoDB streams at once).
            GNEWS_DB_TIMEOUT_MS="60000",
            GNEWS_PUSH_LEASE_SECONDS="600",
        )
        worker = WorkerProcess(env, temp / "worker.log")
        redis = redis_client(redis_server.url)
        job = await enqueue(redis, PING)
        assert job is not None
        await job.result(timeout=120)  # the worker is up
        await redis.aclose()
        rss_idle = worker.peak_rss_mb()
        principal = Principal("user", "000000000000000000000000", Role.ADMIN, None, "bench")
        process = psutil.Process(worker.process.pid)
        async with httpx.AsyncClient(timeout=30) as http:
            results["three provinces"] = await send_one(
                {"provinces": THREE_PROVINCES},
                in_three,
                http,
                emulators.control,
                principal,
                process,
            )
            print("three provinces: done", flush=True)
            results["everyone"] = await send_one(
                {"everyone": True}, devices, http, emulators.control, principal, process
            )
            print("everyone: done", flush=True)
            # The traffic FCM's quota governs: can one worker send it faster than the quota?
            results["everyone, Android"] = await send_one(
                {"everyone": True, "platforms": ["android"]},
                android,
                http,
                emulators.control,
                principal,
                process,
            )
            print("everyone, Android: done", flush=True)
        rss_peak = worker.peak_rss_mb()
        worker.stop()
        worker = None
        share = min(1.0, CEILING_MAX_MESSAGES / devices)
        ceiling_sent, ceiling_seconds, ceiling_cpu = await ceiling(
            emulators, int(android * share), int(ios * share)
        )
    finally:
        if worker is not None:
            worker.process.kill()
        await client.drop_database(db_name)
        await client.close()
        emulators.stop()
        redis_server.stop()
        if mongodb is not None:
            mongodb.stop()
        shutil.rmtree(temp, ignore_errors=True)

    ceiling_rate = ceiling_sent / ceiling_seconds
    print()
    print(
        f"machine: {os.cpu_count()} cores; MongoDB: {uri if uri else 'nx-27017 (embedded)'}; "
        f"batches of {batch_size}; {SEND_CONCURRENCY} batches sent at once by one worker"
    )
    print(
        f"{'notification':16} {'devices':>9} {'batches':>7} {'first (s)':>9} {'last (s)':>9} "
        f"{'msg/s':>8}  figures"
    )
    rates = {}
    for name, result in results.items():
        rates[name] = result["delivered"] / result["last"]
        stats = result["stats"]
        assert result["delivered"] == result["expected"] == stats.sent, result
        print(
            f"{name:16} {result['expected']:9,} {result['batches']:7,} {result['first']:9.2f} "
            f"{result['last']:9.2f} {rates[name]:8,.0f}  {result['status']}: targeted "
            f"{stats.targeted:,}, sent {stats.sent:,}, failed {stats.failed:,}; fan-out runs "
            f"{result['fanout_runs']}"
        )
    print(f"worker peak RSS: {rss_peak:,.0f} MB (after start-up: {rss_idle:,.0f} MB)")
    print(
        f"ceiling, the transports alone (same emulators, no MongoDB, no arq): "
        f"{ceiling_sent:,} messages in {ceiling_seconds:.2f} s = {ceiling_rate:,.0f} msg/s"
    )
    everyone = rates["everyone"]
    print(f"ratio end-to-end (everyone) / ceiling:      {everyone / ceiling_rate:6.2f}×")
    print(f"ratio end-to-end (everyone) / FCM quota:    {everyone / FCM_QUOTA_PER_SECOND:6.2f}×")
    print(
        f"ratio ceiling / FCM quota (10,000/s):       {ceiling_rate / FCM_QUOTA_PER_SECOND:6.2f}×"
    )
    # On 2 cores MongoDB, the emulators and the worker share the CPU: the CPU each message costs
    # the worker says what one worker does with a core of its own.
    worker_us = results["everyone"]["worker_cpu"] / devices * 1e6
    alone_us = ceiling_cpu / ceiling_sent * 1e6
    print(
        f"worker CPU per message (everyone): {worker_us:,.0f} µs = {1e6 / worker_us:,.0f} msg/s "
        f"per core ({1e6 / worker_us / FCM_QUOTA_PER_SECOND:.2f}× the FCM quota); the "
        f"transports alone: {alone_us:,.0f} µs = {1e6 / alone_us:,.0f} msg/s per core"
    )
    print(f"ratio worker CPU per message / transports alone: {worker_us / alone_us:6.2f}×")
    android_us = results["everyone, Android"]["worker_cpu"] / android * 1e6
    print(
        f"worker CPU per FCM message (everyone, Android): {android_us:,.0f} µs = "
        f"{1e6 / android_us:,.0f} msg/s per core = {1e6 / android_us / FCM_QUOTA_PER_SECOND:.2f}× "
        f"the FCM quota"
    )


def main() -> None:
    """Parse the arguments and run the benchmark."""
    configure_logging(json=False, level="WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000, help="devices to register")
    parser.add_argument("--batch-size", type=int, default=MAX_PUSH_BATCH, help="devices a batch")
    args = parser.parse_args()
    asyncio.run(run(args.devices, args.batch_size))


if __name__ == "__main__":
    main()
