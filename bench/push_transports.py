"""Push transport benchmark: messages/s to the FCM and APNs emulators, without MongoDB or arq.

This is the ceiling of one worker's sending (the fan-out and send jobs add MongoDB and Redis on
top). The emulators run in their own process (`gnews emulators`, APNs over TLS like Apple's), so
on a 2-core machine client and emulator get a core each. Measured in the same run:

  (a) firebase-admin ``messaging.send_each_async`` (its own httpx client), batches of 500
  (b) plain httpx, the same request bodies, 500 in flight, 100 connections
  (c) plain aiohttp, the same request bodies, 500 in flight, 100 connections
  (d) our FCM transport (lean HTTP/1.1 client, firebase-admin's message encoding and
      credentials), 4 batches of 500 at once, as 4 send jobs of a worker would; (d2) the same
      with 30 ms added by the emulator (throughput ≈ connections / round trip)
  (e) our APNs transport (h2, ES256 JWT), 4 batches of 500 at once
  (f) aioapns, the same notifications, 500 in flight (reference for the APNs client choice)
  (g) our HMS Push Kit transport (httpx, OAuth client credentials), 4 batches of 500 at once:
      one request of 500 tokens per batch (:func:`hms_results`)
  (h) our Web Push transport (pywebpush's aes128gcm encryption and aiohttp path, py-vapid JWT
      per push service), 4 batches of 500 at once, to 500 subscriptions minted by the Web Push
      emulator, which checks the VAPID JWT and decrypts every message; and the encryption alone

    .venv/bin/python bench/push_transports.py [--fcm 40000] [--apns 10000] [--slow 3000]
                                              [--hms 40000] [--webpush 6000]

FCM's default quota is 600,000 messages/minute per project (10,000/s): the target for (d).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import FCM_QUOTA_PER_SECOND, EmulatorProcess, cpu_seconds
from gnews.core.logs import configure_logging
from gnews.notifications.message import apns_payload
from gnews.specs import PushMessage
from workers.push.fcm import FcmTransport, RequestTemplate, build_message
from workers.push.hms import HmsTransport

BATCH = 500
CONCURRENT_BATCHES = 4

MESSAGE = PushMessage(
    notification_id="66f0c0ffee0000000000abcd",
    title="ประกาศจังหวัดนครสวรรค์: น้ำท่วมถนนสายหลัก",
    body="โปรดหลีกเลี่ยงถนนพหลโยธินช่วง กม. 250-260 จนถึงเวลา 18.00 น.",
    data={"news_id": "n-42", "province": "TH-60"},
    deep_link="gnews://news/n-42",
)


Result = tuple[str, int, float, float, float]  # name, messages, seconds, client cpu, emulator cpu


async def measure(
    name: str,
    count: int,
    emulators: EmulatorProcess,
    run: Callable[[], Awaitable[int]],
    *,
    repeat: int = 1,
) -> Result:
    """Time ``run`` (best of ``repeat``: two processes sharing 2 vCPUs make single runs noisy)."""
    best: Result | None = None
    me = psutil.Process()
    for _ in range(repeat):
        cpu_before, emu_before = cpu_seconds(me), emulators.cpu()
        started = time.perf_counter()
        delivered = await run()
        seconds = time.perf_counter() - started
        assert delivered == count, f"{name}: {delivered} of {count} delivered"
        result = (
            name,
            count,
            seconds,
            cpu_seconds(me) - cpu_before,
            emulators.cpu() - emu_before,
        )
        if best is None or seconds < best[2]:
            best = result
    assert best is not None
    return best


def fcm_tokens(count: int, tag: str) -> list[str]:
    return [f"bench-{tag}-{n}" for n in range(count)]


async def bench_firebase_admin(emulators: EmulatorProcess, count: int) -> int:
    import firebase_admin
    from firebase_admin import credentials, messaging

    app = firebase_admin.initialize_app(
        credentials.Certificate(emulators.env["GNEWS_FCM_CREDENTIALS"]), name="bench"
    )
    service = messaging._get_messaging_service(app)
    # firebase-admin has no setting for the FCM host: point its (private) URL at the emulator.
    project = app.project_id
    service._fcm_url = f"{emulators.env['GNEWS_FCM_ENDPOINT']}/v1/projects/{project}/messages:send"
    tokens = fcm_tokens(count, "admin")
    sent = 0
    try:
        for start in range(0, count, BATCH):
            batch = [build_message(MESSAGE, t) for t in tokens[start : start + BATCH]]
            response = await messaging.send_each_async(batch, app=app)
            sent += response.success_count
    finally:
        await service._async_client.aclose()
    return sent


async def bench_httpx(emulators: EmulatorProcess, count: int, fcm: FcmTransport) -> int:
    access_token = await fcm._access_token()
    template = RequestTemplate(MESSAGE)
    limit = asyncio.Semaphore(BATCH)
    headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100), timeout=30) as client:

        async def one(token: str) -> int:
            async with limit:
                response = await client.post(fcm.url, content=template.body(token), headers=headers)
                return response.status_code == 200

        results = await asyncio.gather(*(one(t) for t in fcm_tokens(count, "httpx")))
    return sum(results)


async def bench_aiohttp(emulators: EmulatorProcess, count: int, fcm: FcmTransport) -> int:
    import aiohttp

    access_token = await fcm._access_token()
    template = RequestTemplate(MESSAGE)
    limit = asyncio.Semaphore(BATCH)
    headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(token: str) -> bool:
            async with (
                limit,
                session.post(fcm.url, data=template.body(token), headers=headers) as response,
            ):
                await response.read()
                return response.status == 200

        results = await asyncio.gather(*(one(t) for t in fcm_tokens(count, "aiohttp")))
    return sum(results)


async def send_in_batches(transport, tokens: list[str]) -> int:
    """What a worker does: several send jobs (batches of 500) at once."""
    queue = [tokens[i : i + BATCH] for i in range(0, len(tokens), BATCH)]
    sent = 0

    async def job_runner() -> None:
        nonlocal sent
        while queue:
            outcomes = await transport.send(MESSAGE, queue.pop())
            sent += sum(o.status == "sent" for o in outcomes)

    await asyncio.gather(*(job_runner() for _ in range(CONCURRENT_BATCHES)))
    return sent


async def bench_aioapns(emulators: EmulatorProcess, count: int) -> int:
    from aioapns import APNs, NotificationRequest
    from aioapns.connection import APNsProductionClientProtocol

    host, port = emulators.env["GNEWS_APNS_ENDPOINT"].removeprefix("https://").split(":")

    class EmulatorProtocol(APNsProductionClientProtocol):
        # aioapns hard-codes Apple's host and port 443 on its protocol classes.
        APNS_SERVER = host
        APNS_PORT = int(port)

    client = APNs(
        key=Path(emulators.env["GNEWS_APNS_KEY_FILE"]).read_text(),
        key_id=emulators.env["GNEWS_APNS_KEY_ID"],
        team_id=emulators.env["GNEWS_APNS_TEAM_ID"],
        topic=emulators.env["GNEWS_APNS_TOPIC"],
        ssl_context=emulators.ssl_context(),
        max_connections=2,
    )
    client.pool.protocol_class = EmulatorProtocol
    payload = __import__("json").loads(apns_payload(MESSAGE))
    limit = asyncio.Semaphore(BATCH)

    async def one(n: int) -> bool:
        async with limit:
            request = NotificationRequest(
                device_token=f"{n:064x}", message=payload, collapse_key=MESSAGE.notification_id
            )
            return (await client.send_notification(request)).is_successful

    results = await asyncio.gather(*(one(n) for n in range(count)))
    client.pool.close()
    return sum(results)


async def bench_web_push(emulators: EmulatorProcess, count: int) -> tuple[Result, float]:
    """(h): the Web Push transport to the emulator (best of 3), and the client CPU µs that
    pywebpush's encryption alone costs per message."""
    from pywebpush import WebPusher

    from gnews.web.push import application_server_key
    from workers.push.webpush import WebPushTransport, webpush_payload

    env = emulators.env

    public_key = application_server_key(Path(env["GNEWS_WEBPUSH_VAPID_KEY_FILE"]))
    async with httpx.AsyncClient(base_url=emulators.webpush_url) as http:
        minted = [
            (await http.post("/subscriptions", json={"applicationServerKey": public_key})).text
            for _ in range(BATCH)
        ]
    tokens = [minted[n % len(minted)] for n in range(count)]
    transport = WebPushTransport(
        env["GNEWS_WEBPUSH_VAPID_KEY_FILE"], env["GNEWS_WEBPUSH_VAPID_SUBJECT"]
    )
    try:
        await transport.send(MESSAGE, minted)  # warm-up: JWT, connections
        result = await measure(
            "(h) Web Push transport (pywebpush, aiohttp)",
            count,
            emulators,
            lambda: send_in_batches(transport, tokens),
            repeat=3,
        )
    finally:
        await transport.aclose()
    payload = webpush_payload(MESSAGE)
    subscription = json.loads(minted[0])
    me = psutil.Process()
    before = cpu_seconds(me)
    for _ in range(BATCH):
        WebPusher(subscription).encode(payload, "aes128gcm")
    encryption_us = (cpu_seconds(me) - before) / BATCH * 1e6
    return result, encryption_us


def hms_tokens(count: int, tag: str) -> list[str]:
    return [f"bench-hms-{tag}-{n:08d}-IQAAAACy0kZ9fV3q" for n in range(count)]


async def hms_results(emulators: EmulatorProcess, count: int) -> list[Result]:
    """(g): the HMS transport through the HMS emulator (in the same emulator process, on the
    FCM port), as a worker's send jobs use it."""
    env = emulators.env
    hms = HmsTransport(
        env["GNEWS_HMS_APP_ID"],
        env["GNEWS_HMS_CLIENT_ID"],
        env["GNEWS_HMS_CLIENT_SECRET"],
        token_endpoint=env["GNEWS_HMS_TOKEN_ENDPOINT"],
        push_endpoint=env["GNEWS_HMS_PUSH_ENDPOINT"],
    )
    try:
        await hms.send(MESSAGE, hms_tokens(BATCH, "warm"))  # access token, connections
        return [
            await measure(
                f"(g) HMS transport ({BATCH} tokens/request)",
                count,
                emulators,
                lambda: send_in_batches(hms, hms_tokens(count, "ours")),
                repeat=3,
            )
        ]
    finally:
        await hms.aclose()


async def run(
    fcm_count: int,
    apns_count: int,
    slow_count: int,
    hms_count: int = 40_000,
    webpush_count: int = 6_000,
) -> None:
    directory = Path(tempfile.mkdtemp(prefix="gnews-bench-push-"))
    emulators = EmulatorProcess(directory, apns_tls=True)
    env = emulators.env
    # (d) is the CPU ceiling (no latency): 50 connections suffice and cost the emulator least.
    # (d2) is the default of 500 connections, which a gateway 30-50 ms away needs.
    fcm_near = emulators.fcm_transport(max_connections=50)
    fcm = emulators.fcm_transport()
    apns = emulators.apns_transport()
    results: list[Result] = []
    try:
        # Warm-up: access token, connections, JIT-less caches.
        await fcm_near.send(MESSAGE, fcm_tokens(BATCH, "warm"))
        await fcm.send(MESSAGE, fcm_tokens(BATCH, "warm"))
        await apns.send(MESSAGE, [f"{n:064x}" for n in range(BATCH)])
        results.append(
            await measure(
                "(a) firebase-admin send_each_async (httpx)",
                slow_count,
                emulators,
                lambda: bench_firebase_admin(emulators, slow_count),
            )
        )
        results.append(
            await measure(
                f"(b) plain httpx, {BATCH} in flight",
                slow_count,
                emulators,
                lambda: bench_httpx(emulators, slow_count, fcm),
            )
        )
        results.append(
            await measure(
                f"(c) plain aiohttp, {BATCH} in flight",
                fcm_count // 4,
                emulators,
                lambda: bench_aiohttp(emulators, fcm_count // 4, fcm),
            )
        )
        results.append(
            await measure(
                "(d) FCM transport (lean HTTP/1.1)",
                fcm_count,
                emulators,
                lambda: send_in_batches(fcm_near, fcm_tokens(fcm_count, "ours")),
                repeat=3,
            )
        )
        await asyncio.to_thread(
            httpx.post, f"{env['GNEWS_FCM_ENDPOINT']}/_emulator/fcm/faults", json={"latency": 0.03}
        )
        results.append(
            await measure(
                "(d2) the same, 500 conns, gateway 30 ms away",
                fcm_count // 2,
                emulators,
                lambda: send_in_batches(fcm, fcm_tokens(fcm_count // 2, "far")),
            )
        )
        results.append(
            await measure(
                "(e) APNs transport (h2, TLS)",
                apns_count,
                emulators,
                lambda: send_in_batches(apns, [f"{n:064x}" for n in range(apns_count)]),
                repeat=3,
            )
        )
        results.append(
            await measure(
                f"(f) aioapns (TLS), {BATCH} in flight",
                slow_count,
                emulators,
                lambda: bench_aioapns(emulators, slow_count),
            )
        )
        results += await hms_results(emulators, hms_count)
        web_push, encryption_us = await bench_web_push(emulators, webpush_count)
        results.append(web_push)
    finally:
        await fcm_near.aclose()
        await fcm.aclose()
        await apns.aclose()
        emulators.stop()

    print(
        f"machine: {os.cpu_count()} cores; emulators in their own process; "
        "(d), (e), (g) and (h): best of 3 runs"
    )
    print(
        f"{'':46} {'messages':>9} {'seconds':>8} {'msg/s':>8} "
        f"{'client µs/msg':>14} {'emulator µs/msg':>16}"
    )
    rates, costs = {}, {}
    for name, count, seconds, client_cpu, emulator_cpu in results:
        key = name.split()[0]
        rates[key] = count / seconds
        costs[key] = client_cpu / count * 1e6
        print(
            f"{name:46} {count:9,} {seconds:8.2f} {count / seconds:8,.0f} "
            f"{costs[key]:14,.0f} {emulator_cpu / count * 1e6:16,.0f}"
        )
    print(f"ratio (d) FCM transport / (a) firebase-admin:  {rates['(d)'] / rates['(a)']:6.1f}×")
    print(f"ratio (d) FCM transport / (b) plain httpx:     {rates['(d)'] / rates['(b)']:6.1f}×")
    print(f"ratio (d) FCM transport / (c) plain aiohttp:   {rates['(d)'] / rates['(c)']:6.1f}×")
    print(f"ratio (e) APNs transport / (f) aioapns:        {rates['(e)'] / rates['(f)']:6.1f}×")
    print(
        f"(h) Web Push: {1e6 / costs['(h)']:,.0f} msg/s per core of worker CPU; of its "
        f"{costs['(h)']:,.0f} µs/msg, pywebpush's encryption alone takes {encryption_us:,.0f}"
    )
    print(
        f"ratio (d) / FCM default quota (10,000/s):      "
        f"{rates['(d)'] / FCM_QUOTA_PER_SECOND:6.2f}×  (client and emulator share 2 cores)"
    )
    per_core = 1e6 / costs["(d)"]
    print(
        f"(d) per core of worker CPU: {per_core:,.0f} msg/s = "
        f"{per_core / FCM_QUOTA_PER_SECOND:.2f}× the quota (aiohttp: "
        f"{1e6 / costs['(c)']:,.0f}, firebase-admin: {1e6 / costs['(a)']:,.0f})"
    )


def main() -> None:
    """Parse the arguments and run the benchmark."""
    configure_logging(json=False, level="WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fcm", type=int, default=40_000, help="messages for (d); (c): a 4th")
    parser.add_argument("--apns", type=int, default=10_000, help="messages for (e)")
    parser.add_argument("--slow", type=int, default=3_000, help="messages for (a), (b), (f)")
    parser.add_argument("--hms", type=int, default=40_000, help="messages for (g)")
    parser.add_argument("--webpush", type=int, default=6_000, help="messages for (h)")
    args = parser.parse_args()
    asyncio.run(run(args.fcm, args.apns, args.slow, args.hms, args.webpush))


if __name__ == "__main__":
    main()
