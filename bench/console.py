"""Server time of the console's pages at scale: N news items (a tenth pending), M devices.

Seeds news items and devices with ``bench/scale.py``'s seeder (the same shapes), plus listings
in review, notifications in flight and drafts, and failing sources; starts a real
``gnews serve`` process on the embedded servers, signs an admin (who sees the editors' pages
too) and an agency user in to the console over HTTP, and prints p50/p99 of each page: the
editors' (home, queue page 1 and 2, queue filtered by agency and by source, one item, sources,
failing sources, GAC review), the push pages (the list, a notification and its delivery
fragment, the compose form, the live audience count for a province and for everyone), the
admin's (users, audit log) and the agency's (its items).

    .venv/bin/python bench/console.py [--items 100000] [--devices 100000] [--runs 21]

Target (issue 12): every page ≤ 100 ms server time at 100k items and 100k devices.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale import AGENCIES, CHUNK, PASSWORD, Seeder, percentile, seed_news
from gnews.accounts.models import Role
from gnews.accounts.service import create_user
from gnews.app import document_models
from gnews.core.persistence import init_documents, mongo_client
from gnews.dev.embedded import free_port, start_mongodb, start_redis

LISTINGS = 2_000  # GAC listings, a tenth in review
NOTIFICATIONS = 3_000  # mostly done; some drafts, scheduled, sending
TARGET_MS = 100.0
_CSRF = re.compile(r'name="_csrf_token" value="([^"]*)"')


async def seed(database: Any, seeder: Seeder, items: int, devices: int) -> dict[str, Any]:
    """Agencies, sources (a tenth failing), items, devices, listings, notifications."""
    started = time.perf_counter()
    sources, _ = await seed_news(database, seeder, items)
    print(f"seeded {items:,} news items in {time.perf_counter() - started:.0f} s", flush=True)
    failing = [source["slug"] for n, source in enumerate(sources) if n % 10 == 0]
    await database["sources"].update_many(
        {"slug": {"$in": failing}},
        {
            "$set": {
                "consecutive_failures": 3,
                "last_error": "https://x.go.th/rss: timed out",
                "last_error_kind": "timeout",
            }
        },
    )
    started = time.perf_counter()
    for start in range(0, devices, CHUNK):
        chunk = [seeder.device(n) for n in range(start, min(devices, start + CHUNK))]
        await database["devices"].insert_many(chunk, ordered=False)
    print(f"seeded {devices:,} devices in {time.perf_counter() - started:.0f} s", flush=True)
    listings = []
    for n in range(LISTINGS):
        in_review = n % 10 == 0
        at = seeder.now - timedelta(minutes=LISTINGS - n)
        listings.append(
            {
                "_id": ObjectId(),
                "slug": f"app-{n:05d}",
                "origin": "api",
                "owner_kind": "agency",
                "owner_id": seeder.agencies[n % AGENCIES],
                "agency": seeder.agencies[n % AGENCIES],
                "name_th": f"แอป {n}",
                "description_th": "แอปของรัฐ",
                "categories": ["government-services"],
                "platforms": ["web"],
                "web_url": f"https://app-{n:05d}.go.th/",
                "screenshot_urls": [],
                "tags": [],
                "provinces": [],
                "search_terms": [],
                "status": "in_review" if in_review else "published",
                "declared": True,
                "submitted_at": at,
                "published_at": None if in_review else at,
                "created_at": at,
                "updated_at": at,
            }
        )
    await database["apps"].insert_many(listings)
    statuses = ["draft"] * 20 + ["scheduled"] * 10 + ["sending"] * 5 + ["done"] * 965
    await database["notifications"].insert_many(
        [
            {
                "_id": ObjectId(),
                "title_th": f"ประกาศ {n}",
                "body_th": "ข้อความ",
                "data": {},
                "priority": "high",
                "audience": {"everyone": True},
                "status": statuses[n % len(statuses)],
                "origin": "gac.new_app" if n % 50 == 0 else None,
                "settled": statuses[n % len(statuses)] == "done",
                "stats": {},
                "created_at": seeder.now - timedelta(minutes=NOTIFICATIONS - n),
            }
            for n in range(NOTIFICATIONS)
        ]
    )
    return {"sources": sources}


async def run(items: int, devices: int, runs: int) -> None:
    temp = Path(tempfile.mkdtemp(prefix="gnews-bench-console-"))
    mongodb = start_mongodb(temp)
    redis_server = start_redis(temp, persist=False)
    client = mongo_client(mongodb.url, timeout_ms=60_000)
    db_name = f"bench_{uuid.uuid4().hex[:8]}"
    process: subprocess.Popen[bytes] | None = None
    try:
        await init_documents(client, db_name, document_models(), build=False)
        database = client[db_name]
        seeded = await seed(database, Seeder(random.Random(7)), items, devices)
        started = time.perf_counter()
        await init_documents(client, db_name, document_models())
        print(f"built the indexes in {time.perf_counter() - started:.0f} s", flush=True)
        email = f"admin-{uuid.uuid4().hex[:6]}@ega.or.th"
        editor = await create_user(email, PASSWORD, Role.ADMIN)
        agency_user = await create_user(
            f"staff-{uuid.uuid4().hex[:6]}@agency-03.go.th",
            PASSWORD,
            Role.AGENCY,
            agency="agency-03",
        )

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
        env.update(
            GNEWS_MONGODB_URI=mongodb.url,
            GNEWS_MONGODB_DB=db_name,
            GNEWS_REDIS_URL=redis_server.url,
            GNEWS_DATA_DIR=str(temp / "var"),
            GNEWS_DISABLED_PLUGINS="ega,nakhonsawan,dopa",
            GNEWS_RATE_LIMIT_READS="0",
            GNEWS_LOG_LEVEL="WARNING",
            GNEWS_DB_TIMEOUT_MS="60000",
            GNEWS_BUILD_INDEXES="false",
        )
        with (temp / "api.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "gnews", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            for _ in range(600):
                try:
                    if (await http.get("/console/sign-in")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            token = await _sign_in(http, editor.email)
            agency_http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120)
            await _sign_in(agency_http, agency_user.email)

            async def get(path: str, client: httpx.AsyncClient = http, **params: Any) -> str:
                answer = await client.get(path, params=params)
                if answer.status_code != 200:
                    raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
                return answer.text

            async def audience_count(**fields: str) -> str:
                answer = await http.post(
                    "/console/notifications/preview",
                    data={**fields, "_csrf_token": token},
                    headers={"HX-Request": "true"},
                )
                if answer.status_code != 200:
                    raise RuntimeError(f"preview: {answer.status_code} {answer.text[:300]}")
                return answer.text

            queue = await get("/console/queue")
            cursor = re.search(r'rel="next" href="/console/queue\?cursor=([^"]+)"', queue)
            item = re.search(r'data-item="([0-9a-f]{24})"', queue)
            assert cursor and item, "the queue has no next page or no item"
            source_id = seeded["sources"][3]["id"]
            listed = await get("/console/notifications", status="done")
            done = re.search(r'href="/console/notifications/([0-9a-f]{24})"', listed)
            assert done, "no notification listed"
            done = done.group(1)  # type: ignore[assignment]
            pages: dict[str, Callable[[], Awaitable[str]]] = {
                "home (editor panels)": lambda: get("/console/"),
                "queue page 1": lambda: get("/console/queue"),
                "queue page 2": lambda: get(
                    "/console/queue", cursor=cursor.group(1).replace("%3D", "=")
                ),
                "queue by agency": lambda: get("/console/queue", agency="agency-03"),
                "queue by source": lambda: get("/console/queue", source_id=source_id),
                "queue, one item": lambda: get("/console/queue", item=item.group(1)),
                "sources": lambda: get("/console/sources"),
                "failing sources": lambda: get("/console/sources", failing="1"),
                "GAC review": lambda: get("/console/gac/review"),
                "notifications list": lambda: get("/console/notifications"),
                "a notification": lambda: get(f"/console/notifications/{done}"),
                "its delivery fragment": lambda: get(f"/console/notifications/{done}/delivery"),
                "compose": lambda: get("/console/notifications/new"),
                "audience count, TH-60": lambda: audience_count(provinces="TH-60"),
                "audience count, everyone": lambda: audience_count(everyone="on"),
                "admin: users": lambda: get("/console/admin/users"),
                "admin: audit log": lambda: get("/console/admin/audit"),
                "agency: its items": lambda: get("/console/agency/items", agency_http),
            }
            # Settle: the first requests after start-up meet the server's own start-up work.
            for call in pages.values():
                await call()
            await asyncio.sleep(5)
            print(f"\nserver time, p50/p99 over {runs} requests each (HTTP, `gnews serve`):")
            worst = 0.0
            for name, call in pages.items():
                await call()
                times = []
                for _ in range(runs):
                    began = time.perf_counter()
                    await call()
                    times.append((time.perf_counter() - began) * 1000)
                p50, p99 = statistics.median(times), percentile(times, 0.99)
                worst = max(worst, p50)
                flag = "" if p50 <= TARGET_MS else "  OVER TARGET"
                print(f"  {name:24} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms{flag}", flush=True)
            print(f"\nworst p50 {worst:.1f} ms (target ≤ {TARGET_MS:.0f} ms)")
            await agency_http.aclose()
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        await client.close()
        redis_server.stop()
        mongodb.stop()
        shutil.rmtree(temp, ignore_errors=True)


async def _sign_in(http: httpx.AsyncClient, email: str) -> str:
    """Sign ``email`` in to the console on ``http``; the CSRF token of its pages."""
    form = await http.get("/console/sign-in")
    token = _CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    signed_in = await http.post(
        "/console/sign-in", data={"email": email, "password": PASSWORD, "_csrf_token": token}
    )
    assert signed_in.status_code == 303, signed_in.text
    page = await http.get("/console/")
    return _CSRF.search(page.text).group(1)  # type: ignore[union-attr]


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="news items to seed")
    parser.add_argument("--devices", type=int, default=100_000, help="devices to seed")
    parser.add_argument("--runs", type=int, default=21, help="requests per page")
    args = parser.parse_args()
    asyncio.run(run(args.items, args.devices, args.runs))


if __name__ == "__main__":
    main()
