"""The embedded default's envelope: N published news items and M devices, every read shape timed.

Seeds N news items (realistic Thai items over the 77 provinces, 23 categories and 25 agencies,
about a sixth national; a tenth waiting for review) and M devices, written in bulk as raw
documents shaped like the models (derived fields included, as ingestion and registration write
them). Then, through a real `gnews serve` process (HTTP, uncached: the response cache is emptied
before each request), prints p50/p99 of each read shape next to the by-id lookup and the cached
answer of the news list measured in the same run (and the audit log's pages, the largest staff
list, over 50,000 entries); the ingest duplicate check (the real
``store_entries`` with a feed's 30 newest entries, all known); the notification preview for four
audiences; the time from creating a notification to everyone to its first delivery (a `gnews
worker` process and the FCM/APNs emulators); and the embedded server's peak RSS.

    .venv/bin/python bench/scale.py [--items 100000] [--devices 100000] [--runs 21]

MongoDB is the embedded nx-27017 in a temporary directory (or GNEWS_BENCH_MONGODB_URI), Redis
the embedded one. Targets (the embedded default, 2 cores, 100k/100k): every list shape p50
≤ 50 ms and ≤ 10× the by-id lookup, preview ≤ 500 ms, ingest duplicate check ≤ 10 ms, first
delivery ≤ 2 s (≤ 5 s at 1,000,000 devices), nx-27017 peak RSS ≤ 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from bson import ObjectId

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import EmulatorProcess
from gnews.accounts.models import Role
from gnews.accounts.service import create_user
from gnews.app import document_models
from gnews.audit.service import id_at
from gnews.core.logs import configure_logging
from gnews.core.pagination import time_key
from gnews.core.persistence import init_documents, mongo_client, redis_client
from gnews.core.persistence.shapes import one_of
from gnews.dev.embedded import free_port, start_mongodb, start_redis
from gnews.devices.service import hash_secret
from gnews.geo.provinces import all_provinces
from gnews.jobs import PING, enqueue
from gnews.news import feed
from gnews.news import service as editorial
from gnews.news.categories import CATEGORIES
from gnews.news.models import reach_of
from gnews.plugins import build_plugin_manager
from gnews.sources.models import Source
from gnews.thai.text import index_terms
from workers.feeds.normalize import FeedEntry
from workers.jobs.ingest import store_entries

CHUNK = 5_000
PASSWORD = "correct horse battery"
AGENCIES = 25
SOURCES = 100
NOTIFICATIONS = 60  # in the inbox of the measured devices
INBOX_DEVICES = 300
AUDIT_ENTRIES = 50_000  # the staff lists' largest collection
AUDIT_ACTIONS = ("news.approve", "news.reject", "source.update", "api_key.revoke", "user.update")
DEVICE_SECRET = "bench-device-secret"
LIST_TARGET_MS = 50.0

# Realistic Thai news: (title, summary, categories). Search terms are computed once per text.
TEXTS = [
    (
        "ประกันสังคมเพิ่มสิทธิประโยชน์ผู้ประกันตนมาตรา 40",
        "สำนักงานประกันสังคมประกาศเพิ่มเงินทดแทนการขาดรายได้ให้ผู้ประกันตน",
        ["welfare", "employment"],
    ),
    (
        "กรมอุตุนิยมวิทยาเตือนฝนตกหนักภาคเหนือ",
        "พายุโซนร้อนทำให้มีฝนตกหนักถึงหนักมากและอาจเกิดน้ำท่วมฉับพลัน",
        ["weather", "disaster"],
    ),
    ("น้ำท่วมถนนสายหลักในตัวเมือง", "ปภ. แจ้งเส้นทางเลี่ยงน้ำท่วมและจุดอพยพประชาชน", ["disaster", "transport"]),
    (
        "กระทรวงสาธารณสุขรณรงค์ฉีดวัคซีนไข้หวัดใหญ่",
        "โรงพยาบาลส่งเสริมสุขภาพตำบลเปิดให้บริการฉีดวัคซีนฟรีสำหรับผู้สูงอายุ",
        ["health"],
    ),
    (
        "เปิดรับสมัครทุนการศึกษาสำหรับนักเรียนยากจน",
        "กองทุนเพื่อความเสมอภาคทางการศึกษาเปิดรับสมัครทุนถึงสิ้นเดือน",
        ["education", "welfare"],
    ),
    (
        "กรมสรรพากรขยายเวลายื่นภาษีเงินได้บุคคลธรรมดาออนไลน์",
        "ผู้มีเงินได้ยื่นแบบผ่านอินเทอร์เน็ตได้ถึงวันที่ 8 เมษายน",
        ["tax", "digital-government"],
    ),
    (
        "เกษตรกรผู้ปลูกข้าวรับเงินช่วยเหลือไร่ละพันบาท",
        "ธ.ก.ส. โอนเงินช่วยเหลือค่าบริหารจัดการผลผลิตเข้าบัญชีเกษตรกร",
        ["agriculture", "economy"],
    ),
    (
        "การท่องเที่ยวแห่งประเทศไทยจัดงานเทศกาลอาหารพื้นเมือง",
        "ชวนนักท่องเที่ยวชิมอาหารถิ่นและชมการแสดงทางวัฒนธรรม",
        ["tourism", "culture", "events"],
    ),
    (
        "กรมการขนส่งทางบกเปิดจองคิวสอบใบขับขี่ผ่านแอป",
        "ประชาชนจองคิวอบรมและสอบใบอนุญาตขับรถได้ทางออนไลน์",
        ["transport", "digital-government"],
    ),
    (
        "ตำรวจเตือนภัยมิจฉาชีพหลอกลงทุนออนไลน์",
        "อย่าหลงเชื่อข้อความชักชวนลงทุนผลตอบแทนสูงและอย่ากดลิงก์แปลกปลอม",
        ["security", "technology"],
    ),
    (
        "จังหวัดประกาศเขตพื้นที่ประสบภัยแล้ง",
        "ผู้ว่าราชการจังหวัดสั่งการแจกจ่ายน้ำอุปโภคบริโภคให้หมู่บ้านที่ขาดแคลน",
        ["disaster", "announcement"],
    ),
    (
        "กระทรวงพลังงานลดค่าไฟฟ้างวดใหม่",
        "คณะกรรมการกำกับกิจการพลังงานเคาะค่าไฟฟ้าลดลงสำหรับบ้านอยู่อาศัย",
        ["energy", "economy"],
    ),
    (
        "กรมควบคุมมลพิษเตือนค่าฝุ่น PM2.5 เกินมาตรฐาน",
        "แนะนำให้ประชาชนสวมหน้ากากและงดกิจกรรมกลางแจ้ง",
        ["environment", "health"],
    ),
    (
        "จัดหางานจังหวัดเปิดตลาดนัดแรงงานกว่าสามพันอัตรา",
        "ผู้หางานสมัครงานกับนายจ้างได้ในวันเดียวพร้อมแนะแนวอาชีพ",
        ["employment", "events"],
    ),
    (
        "ศาลปกครองเปิดบริการยื่นฟ้องคดีทางอิเล็กทรอนิกส์",
        "ประชาชนยื่นคำฟ้องและติดตามคดีผ่านระบบออนไลน์",
        ["law", "digital-government"],
    ),
    (
        "การกีฬาแห่งประเทศไทยจัดแข่งขันวิ่งมาราธอนการกุศล",
        "รายได้สมทบทุนจัดซื้ออุปกรณ์การแพทย์ให้โรงพยาบาลชุมชน",
        ["sports", "events", "health"],
    ),
    (
        "ประกาศประกวดราคาจ้างก่อสร้างถนนคอนกรีตเสริมเหล็ก",
        "องค์การบริหารส่วนตำบลประกาศประกวดราคาด้วยวิธีประกวดราคาอิเล็กทรอนิกส์",
        ["procurement", "announcement"],
    ),
    (
        "กระทรวงดิจิทัลเปิดศูนย์บริการอินเทอร์เน็ตชุมชน",
        "ประชาชนในพื้นที่ห่างไกลใช้อินเทอร์เน็ตความเร็วสูงได้ฟรี",
        ["technology", "digital-government"],
    ),
    (
        "กรมประชาสัมพันธ์แถลงผลการประชุมคณะรัฐมนตรี",
        "ครม. อนุมัติมาตรการกระตุ้นเศรษฐกิจและช่วยเหลือผู้มีรายได้น้อย",
        ["public-relations", "economy"],
    ),
    (
        "สำนักงานประกันสังคมเปิดให้ตรวจสอบสิทธิผ่านแอปพลิเคชัน",
        "ผู้ประกันตนตรวจสอบเงินสมทบและสิทธิการรักษาพยาบาลได้ด้วยตนเอง",
        ["welfare", "digital-government"],
    ),
]


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return psutil.Process(pid).memory_info().rss / 2**20


class Seeder:
    """Raw documents shaped like the models, written in chunks."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.provinces = [p.code for p in all_provinces()]
        self.agencies = [f"agency-{n:02d}" for n in range(AGENCIES)]
        self.terms = [index_terms(f"{title}\n{summary}") for title, summary, _ in TEXTS]
        self.now = datetime.now(UTC).replace(microsecond=0)

    def news_item(self, n: int, source: dict[str, Any]) -> dict[str, Any]:
        """Item ``n`` of ``source``: one minute apart, newest last."""
        rnd = self.rnd
        text = rnd.randrange(len(TEXTS))
        title, summary, categories = TEXTS[text]
        item_id = ObjectId()
        published = self.now - timedelta(minutes=n) + timedelta(seconds=rnd.randrange(60))
        fetched = published + timedelta(minutes=rnd.randrange(1, 30))
        provinces = source["provinces"] if rnd.random() < 0.83 else []
        status = "pending" if rnd.random() < 0.1 else "published"
        link = f"https://{source['slug']}.go.th/news/{source['next']:07d}"
        source["next"] += 1
        return {
            "_id": item_id,
            "source_id": source["id"],
            "source_slug": source["slug"],
            "agency": source["agency"],
            "key": link,
            "title": f"{title} ({n})",
            "summary": summary,
            "content_html": f"<p>{summary}</p><p>{title}</p>",
            "link": link,
            "image_url": None,
            "author": None,
            "language": "th",
            "categories": categories,
            "published_at": published,
            "date_missing": False,
            "feed_updated_at": None,
            "content_hash": hashlib.sha256(link.encode()).hexdigest(),
            "provinces": provinces,
            "province_tags": [{"code": c, "reason": "source", "detail": None} for c in provinces],
            "search_terms": self.terms[text],
            "status": status,
            "rejection_reason": None,
            "edited_fields": [],
            "featured_until": None,
            "pinned_until": None,
            "breaking": False,
            "reviewed_by": None,
            "reviewed_at": None,
            "fetched_at": fetched,
            "created_at": fetched,
            "updated_at": fetched,
            "sort_key": time_key(published, item_id),
            "queue_key": time_key(fetched, item_id),
            "reach": reach_of(provinces),
        }

    def device(self, n: int) -> dict[str, Any]:
        """A registered device: 70 % Android, one or two provinces, some categories."""
        rnd = self.rnd
        android = rnd.random() < 0.7
        token = f"b{n:09d}:APA91b" + "Qw3_e-R" * 21 if android else f"{n + 1:064x}"
        return {
            "_id": ObjectId(),
            "platform": "android" if android else "ios",
            "push_token": token,
            "provinces": rnd.sample(self.provinces, rnd.choice((1, 1, 1, 2))),
            "categories": [c.code for c in rnd.sample(CATEGORIES, rnd.randrange(0, 3))],
            "agencies": [],
            "language": "en" if rnd.random() < 0.2 else "th",
            "app_version": "1.0.0",
            "secret_hash": f"{n:064x}",
            "active": True,
            "created_at": self.now,
            "updated_at": self.now,
            "last_seen_at": self.now,
        }


async def seed_news(database: Any, seeder: Seeder, items: int) -> tuple[list[dict[str, Any]], int]:
    """Seed the agencies, :data:`SOURCES` sources and ``items`` news items (raw documents in
    chunks, indexes not built); the sources (``doc``: the stored one) and the number of
    national items. Shared with bench/pages.py."""
    await database["agencies"].insert_many(
        [
            {
                "code": code,
                "name_th": f"หน่วยงาน {code}",
                "name_en": code,
                "active": True,
                "trusted": True,
                "created_at": seeder.now,
                "updated_at": seeder.now,
            }
            for code in seeder.agencies
        ]
    )
    sources = []
    for n in range(SOURCES):
        source = Source(
            slug=f"source-{n:03d}",
            agency=seeder.agencies[n % AGENCIES],
            name=f"ข่าว {n}",
            feed_url=f"https://source-{n:03d}.go.th/rss",
            provinces=[seeder.provinces[n % len(seeder.provinces)]],
            trusted=True,
        )
        await source.insert()
        sources.append(
            {
                "id": str(source.id),
                "slug": source.slug,
                "agency": source.agency,
                "provinces": source.provinces,
                "next": 0,
                "doc": source,
            }
        )
    national = 0
    for start in range(0, items, CHUNK):
        chunk = [
            seeder.news_item(n, sources[n % SOURCES])
            for n in range(start, min(items, start + CHUNK))
        ]
        national += sum(not d["provinces"] for d in chunk)
        await database["news_items"].insert_many(chunk, ordered=False)
    return sources, national


class Timer:
    """Times one shape: each run empties the response cache first (uncached)."""

    def __init__(self, redis: Any, runs: int) -> None:
        self.redis = redis
        self.runs = runs
        self.rows: list[tuple[str, float, float, str]] = []

    async def measure(
        self, name: str, call: Callable[[], Awaitable[Any]], *, cached: bool = False
    ) -> tuple[float, float]:
        """p50 and p99 in ms over ``runs`` calls (after one warm-up call)."""
        await call()
        times = []
        for _ in range(self.runs):
            if not cached:
                await self.redis.flushdb()
            started = time.perf_counter()
            await call()
            times.append((time.perf_counter() - started) * 1000)
        p50, p99 = statistics.median(times), percentile(times, 0.99)
        self.rows.append((name, p50, p99, "cached" if cached else "uncached"))
        print(f"  {name:34} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms", flush=True)
        return p50, p99


def ok(response: httpx.Response) -> httpx.Response:
    """The response, after checking it is a success."""
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return response


async def run(items: int, devices: int, runs: int) -> None:
    temp = Path(tempfile.mkdtemp(prefix="gnews-bench-scale-"))
    uri = os.environ.get("GNEWS_BENCH_MONGODB_URI")
    mongodb = None if uri else start_mongodb(temp)
    redis_server = start_redis(temp, persist=False)
    emulators = EmulatorProcess(temp / "credentials")
    mongodb_uri = uri or mongodb.url  # type: ignore[union-attr]
    client = mongo_client(mongodb_uri, timeout_ms=60_000)
    db_name = f"bench_{uuid.uuid4().hex[:8]}"
    processes: list[subprocess.Popen[bytes]] = []
    rnd = random.Random(7)
    seeder = Seeder(rnd)
    try:
        # Indexes are built after seeding (as `gnews db indexes` would on a restored dump): an
        # index built over stored documents costs far less than one kept up by every insert.
        await init_documents(client, db_name, document_models(), build=False)
        database = client[db_name]

        # -- seeding ----------------------------------------------------------------------------
        started = time.perf_counter()
        sources, national = await seed_news(database, seeder, items)
        seeded_items = time.perf_counter() - started
        print(
            f"seeded {items:,} news items ({national:,} national) in {seeded_items:.0f} s",
            flush=True,
        )
        started = time.perf_counter()
        inbox_devices: list[str] = []
        for start in range(0, devices, CHUNK):
            chunk = [seeder.device(n) for n in range(start, min(devices, start + CHUNK))]
            if len(inbox_devices) < INBOX_DEVICES:
                inbox_devices += [
                    str(d["_id"]) for d in chunk[: INBOX_DEVICES - len(inbox_devices)]
                ]
            await database["devices"].insert_many(chunk, ordered=False)
        print(f"seeded {devices:,} devices in {time.perf_counter() - started:.0f} s", flush=True)
        # The measured device: registered like the others, with a secret this run knows.
        measured = seeder.device(devices)
        measured.update(
            provinces=["TH-60"],
            categories=["health", "weather"],
            secret_hash=hash_secret(DEVICE_SECRET),
        )
        await database["devices"].insert_one(measured)
        device_id = str(measured["_id"])
        notifications = []
        for n in range(NOTIFICATIONS):
            at = seeder.now - timedelta(hours=NOTIFICATIONS - n)
            notifications.append(
                {
                    "_id": ObjectId(),
                    "title_th": f"ประกาศ {n}",
                    "body_th": "ข้อความ",
                    "data": {},
                    "priority": "high",
                    "audience": {"everyone": True},
                    "status": "done",
                    "send_at": at.timestamp(),
                    "expires_at": at.timestamp() + 86400,
                    "settled": True,
                    "stats": {},
                    "created_at": at,
                }
            )
        await database["notifications"].insert_many(notifications)
        # Inboxes: the measured device's and INBOX_DEVICES others' hold every notification.
        inbox = []
        for owner in [device_id, *inbox_devices]:
            for notification in notifications:
                entry_id = ObjectId()
                at = notification["created_at"]
                inbox.append(
                    {
                        "_id": entry_id,
                        "device_id": owner,
                        "notification_id": str(notification["_id"]),
                        "created_at": at,
                        "opens": 0,
                        "opened_at": None,
                        "sort_key": time_key(at, entry_id),
                    }
                )
        for start in range(0, len(inbox), CHUNK):
            await database["inbox_entries"].insert_many(inbox[start : start + CHUNK])
        print(f"seeded {len(inbox):,} inbox entries", flush=True)
        for start in range(0, AUDIT_ENTRIES, CHUNK):
            await database["audit_log"].insert_many(
                [
                    {
                        "_id": id_at(seeder.now - timedelta(minutes=AUDIT_ENTRIES - n)),
                        "at": seeder.now - timedelta(minutes=AUDIT_ENTRIES - n),
                        "actor": {"id": f"user-{n % 40}", "email": f"editor{n % 40}@ega.or.th"},
                        "action": AUDIT_ACTIONS[n % len(AUDIT_ACTIONS)],
                        "target_type": "news_item",
                        "target_id": str(ObjectId()),
                        "before": {"status": "pending"},
                        "after": {"status": "published"},
                    }
                    for n in range(start, min(AUDIT_ENTRIES, start + CHUNK))
                ]
            )
        print(f"seeded {AUDIT_ENTRIES:,} audit-log entries", flush=True)
        started = time.perf_counter()
        await init_documents(client, db_name, document_models())
        print(f"built the indexes in {time.perf_counter() - started:.0f} s", flush=True)

        # -- the API ----------------------------------------------------------------------------
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
        env.update(emulators.env)
        env.update(
            GNEWS_MONGODB_URI=mongodb_uri,
            GNEWS_MONGODB_DB=db_name,
            GNEWS_REDIS_URL=redis_server.url,
            GNEWS_DATA_DIR=str(temp / "var"),
            GNEWS_DISABLED_PLUGINS="ega,nakhonsawan,dopa",
            GNEWS_RATE_LIMIT_READS="0",
            GNEWS_RATE_LIMIT_REGISTRATIONS="0",
            GNEWS_LOG_LEVEL="WARNING",
            GNEWS_DB_TIMEOUT_MS="60000",
            GNEWS_BUILD_INDEXES="false",
        )
        with (temp / "api.log").open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gnews", "serve", "--port", str(port)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        base = f"http://127.0.0.1:{port}"
        redis = redis_client(redis_server.url)
        device_auth = {"Authorization": f"Device {DEVICE_SECRET}"}
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            for _ in range(600):
                try:
                    if (await http.get("/api/v1/news/categories")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            admin = await create_user(
                f"admin-{uuid.uuid4().hex[:6]}@bench.go.th", PASSWORD, Role.ADMIN
            )
            token = ok(
                await http.post(
                    "/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}
                )
            ).json()["access_token"]
            staff = {"Authorization": f"Bearer {token}"}

            newest = (
                await database["news_items"]
                .find({"status": "published"})
                .sort([("sort_key", -1)])
                .limit(1)
                .to_list()
            )[0]
            item_id = str(newest["_id"])
            since = (seeder.now - timedelta(hours=6)).isoformat()

            async def get(path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
                return ok(await http.get(path, params=params, headers=headers)).json()

            page1 = await get("/api/v1/news/")
            page2 = await get("/api/v1/news/", cursor=page1["next_cursor"])
            inbox1 = await get(f"/api/v1/devices/{device_id}/notifications/", device_auth)
            queue1 = await get("/api/v1/editorial/queue", staff)
            audit1 = await get("/api/v1/audit/", staff)
            approvals1 = await get("/api/v1/audit/", staff, action="news.approve")

            timer = Timer(redis, runs)
            print(f"\nuncached p50/p99 over {runs} requests each (HTTP, through `gnews serve`):")
            by_id, _ = await timer.measure("news by id", lambda: get(f"/api/v1/news/{item_id}"))
            lists = {
                "news list": lambda: get("/api/v1/news/"),
                "province TH-60": lambda: get("/api/v1/news/", province="TH-60"),
                "category health": lambda: get("/api/v1/news/", category="health"),
                "agency": lambda: get("/api/v1/news/", agency="agency-03"),
                "search ประกันสังคม": lambda: get("/api/v1/news/", q="ประกันสังคม"),
                "search น้ำท่วมฉับพลัน": lambda: get("/api/v1/news/", q="น้ำท่วมฉับพลัน"),
                "page 2 by cursor": lambda: get("/api/v1/news/", cursor=page1["next_cursor"]),
                "page 3 by cursor": lambda: get("/api/v1/news/", cursor=page2["next_cursor"]),
                "since (6 h ago)": lambda: get("/api/v1/news/", since=since),
                "device's own feed": lambda: get(f"/api/v1/devices/{device_id}/feed", device_auth),
                "review queue": lambda: get("/api/v1/editorial/queue", staff),
                "review queue page 2": lambda: get(
                    "/api/v1/editorial/queue", staff, cursor=queue1["next_cursor"]
                ),
                "inbox page 2": lambda: get(
                    f"/api/v1/devices/{device_id}/notifications/",
                    device_auth,
                    cursor=inbox1["next_cursor"],
                ),
                "audit log page 2": lambda: get(
                    "/api/v1/audit/", staff, cursor=audit1["next_cursor"]
                ),
                "audit log, one action, page 2": lambda: get(
                    "/api/v1/audit/",
                    staff,
                    action="news.approve",
                    cursor=approvals1["next_cursor"],
                ),
            }
            list_results = {name: await timer.measure(name, call) for name, call in lists.items()}

            # The same shapes without HTTP: the feed service's query alone, in this process.
            print("\nthe feed's queries alone (in process, no HTTP), p50/p99:")
            criteria = feed.feed_criteria()
            direct = {
                "by id (query alone)": lambda: editorial.published_item_or_404(item_id),
                "news list (query alone)": lambda: feed.news_items(criteria, 20),
                "province (query alone)": lambda: feed.news_items(
                    feed.feed_criteria(provinces=["TH-60"]), 20
                ),
                "category (query alone)": lambda: feed.news_items(
                    feed.feed_criteria(category="health"), 20
                ),
                "search (query alone)": lambda: feed.news_items(criteria, 20, q="ประกันสังคม"),
                "page 2 (query alone)": lambda: feed.news_items(criteria, 20, page1["next_cursor"]),
                "since (query alone)": lambda: feed.news_items(
                    feed.feed_criteria(since=feed.parse_since(since)), 20
                ),
            }
            direct_results = {
                name: await timer.measure(name, call, cached=True) for name, call in direct.items()
            }
            cached, _ = await timer.measure(
                "news list (cached)", lambda: get("/api/v1/news/"), cached=True
            )

            # The ingest duplicate check: a poll of a feed whose 30 newest entries are all known.
            source = sources[3]
            known = (
                await database["news_items"]
                .find({"source_id": source["id"]})
                .sort([("key", -1)])
                .limit(30)
                .to_list()
            )
            entries = [
                FeedEntry(
                    key=d["key"],
                    title=d["title"],
                    summary=d["summary"],
                    content_html=d["content_html"],
                    link=d["link"],
                    image_url=None,
                    author=None,
                    categories=d["categories"],
                    published_at=d["published_at"],
                    date_missing=False,
                    updated_at=None,
                    content_hash=d["content_hash"],
                )
                for d in known
            ]
            plugins = build_plugin_manager([], disabled=["ega", "nakhonsawan", "dopa"])
            polled = source["doc"]

            async def duplicate_check() -> None:
                outcome = await store_entries(polled, entries, plugins, datetime.now(UTC))
                assert outcome.unchanged == len(entries), outcome

            async def duplicate_query() -> None:  # the query store_entries starts with
                found = await (
                    database["news_items"]
                    .find(
                        {"source_id": source["id"], "key": one_of([e.key for e in entries])},
                        {"key": 1, "content_hash": 1},
                    )
                    .to_list()
                )
                assert len(found) == len(entries)

            dup, _ = await timer.measure(
                "ingest duplicate check (30)", duplicate_query, cached=True
            )
            poll, _ = await timer.measure(
                "store_entries, 30 known entries", duplicate_check, cached=True
            )

            audiences = {
                "preview: everyone": {"everyone": True},
                "preview: three provinces": {"provinces": ["TH-60", "TH-61", "TH-62"]},
                "preview: one region (north)": {"regions": ["north"]},
                "preview: Android only": {"everyone": True, "platforms": ["android"]},
            }
            previews = {}
            for name, audience in audiences.items():
                previews[name] = await timer.measure(
                    name,
                    lambda a=audience: _post(  # type: ignore[misc]
                        http, "/api/v1/notifications/preview", {"audience": a}, staff
                    ),
                    cached=True,
                )

            # -- fan-out to everyone: time to the first delivery --------------------------------
            await redis.flushdb()
            with (temp / "worker.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "gnews", "worker"],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            control = emulators.control
            job = await enqueue(redis, PING)
            assert job is not None
            await job.result(timeout=300)  # the worker is up (dictionaries built)
            before = await _accepted(http, control)
            started = time.time()
            created = await _post(
                http,
                "/api/v1/notifications/",
                {
                    "title_th": "ประกาศด่วน: ฝนตกหนัก",
                    "body_th": "โปรดระวังน้ำท่วมฉับพลัน",
                    "audience": {"everyone": True},
                },
                staff,
            )
            first = None
            while time.time() - started < 600:
                if await _accepted(http, control) > before:
                    first = time.time() - started
                    break
                await asyncio.sleep(0.02)
            print(f"  {'fan-out to everyone: first delivery':34} {first:8.2f} s", flush=True)
            _ = created
        await redis.aclose()
        rss = peak_rss_mb(mongodb.process.pid) if mongodb is not None else float("nan")
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        await client.drop_database(db_name)
        await client.close()
        emulators.stop()
        redis_server.stop()
        if mongodb is not None:
            mongodb.stop()
        shutil.rmtree(temp, ignore_errors=True)

    print()
    print(
        f"machine: {os.cpu_count()} cores (shared); MongoDB: "
        f"{uri if uri else 'nx-27017 (embedded)'}; {items:,} items, {devices:,} devices"
    )
    print(f"{'shape':34} {'p50 ms':>8} {'p99 ms':>8} {'× by-id':>8}  target")
    print(f"{'news by id':34} {by_id:8.1f}")
    print(f"{'news list (cached)':34} {cached:8.1f}")
    for name, (p50, p99) in list_results.items():
        verdict = "ok" if p50 <= LIST_TARGET_MS and p50 <= 10 * by_id else "MISSED"
        print(f"{name:34} {p50:8.1f} {p99:8.1f} {p50 / by_id:8.1f}  ≤ 50 ms, ≤ 10×: {verdict}")
    direct_by_id = direct_results["by id (query alone)"][0]
    for name, (p50, p99) in direct_results.items():
        print(f"{name:34} {p50:8.1f} {p99:8.1f} {p50 / direct_by_id:8.1f}")
    print(
        f"{'ingest duplicate check (30)':34} {dup:8.1f}{'':18}  ≤ 10 ms: "
        f"{'ok' if dup <= 10 else 'MISSED'}"
    )
    print(f"{'store_entries, 30 known entries':34} {poll:8.1f}")
    for name, (p50, p99) in previews.items():
        verdict = ("ok" if p50 <= 500 else "MISSED") if devices <= 100_000 else "(for 100k)"
        print(f"{name:34} {p50:8.1f} {p99:8.1f}{'':9}  ≤ 500 ms: {verdict}")
    limit = 2.0 if devices <= 100_000 else 5.0
    print(
        f"{'fan-out, first delivery (s)':34} {first:8.2f}{'':18}  ≤ {limit:.0f} s: "
        f"{'ok' if first is not None and first <= limit else 'MISSED'}"
    )
    print(
        f"{'nx-27017 peak RSS (MB)':34} {rss:8.0f}{'':18}  ≤ 500 MB: "
        f"{'ok' if rss <= 500 else 'MISSED'}"
    )


async def _post(http: httpx.AsyncClient, path: str, body: dict, headers: dict) -> Any:
    return ok(await http.post(path, json=body, headers=headers)).json()


async def _accepted(http: httpx.AsyncClient, control: str) -> int:
    total = 0
    for name in ("fcm", "apns"):
        body = (await http.get(f"{control}/{name}/received", params={"limit": 1})).json()
        total += body["counts"].get("accepted", 0)
    return total


def main() -> None:
    """Parse the arguments and run the benchmark."""
    configure_logging(json=False, level="WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="news items to seed")
    parser.add_argument("--devices", type=int, default=100_000, help="devices to seed")
    parser.add_argument("--runs", type=int, default=21, help="requests per shape")
    args = parser.parse_args()
    asyncio.run(run(args.items, args.devices, args.runs))


if __name__ == "__main__":
    main()
