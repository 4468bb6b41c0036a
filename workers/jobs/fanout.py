"""The fan-out job: a notification's audience cut into push batches (``fanout``).

It claims the notification (``scheduled`` and due → ``fanning_out``; or a fan-out whose lease
expired because its worker died), then streams the matching active devices with one cursor in
``_id`` order and a small projection (id, platform, token, language: never all in memory), and
cuts them into batches of at most ``GNEWS_PUSH_BATCH_SIZE`` (500) devices of one platform and
one message language. Each batch is written (unique ``(notification_id, seq)``), counted on the
notification, and its send job enqueued at once, so the first messages go out while the fan-out
goes on. When the cursor is exhausted the notification is ``sending``.

A re-run resumes where the dead run stopped, and never writes a device twice: a language and
platform's batches hold consecutive devices of the ``_id`` order, so the devices of that kind
up to the last one of its last batch are all written; the stream restarts after the lowest of
those last ids (or from the start while some kind has no batch yet) and skips what is written.
Sequence numbers continue after the highest written. A run that finds its claim gone (cancelled,
expired, taken over after its lease expired) stops at its next write.
"""

from __future__ import annotations

import functools
from typing import Any

import structlog
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from gnews.devices.models import Device
from gnews.notifications import lifecycle
from gnews.notifications.audience import audience_languages, audience_platforms, device_filter
from gnews.notifications.message import message_language
from gnews.notifications.models import BatchStatus, Notification, PushBatch
from workers.jobs.send import enqueue_send

log = structlog.get_logger(__name__)

PROJECTION = {"_id": 1, "platform": 1, "push_token": 1, "language": 1}
CURSOR_BATCH = 1000

Key = tuple[str, str]  # (platform, message language)


class Stopped(Exception):
    """This run no longer owns the fan-out."""


async def fanout_job(ctx: dict[str, Any], notification_id: str) -> str:
    """Claim the notification's fan-out and write its push batches (arq job ``fanout``)."""
    settings = ctx["settings"]
    lease = settings.push_lease_seconds
    notification = await lifecycle.claim_fanout(notification_id, lease)
    if notification is None:
        return "not claimable"
    fanout = Fanout(notification, ctx["redis"], settings.push_batch_size, lease)
    renew = functools.partial(lifecycle.renew_fanout, notification, lease)
    async with lifecycle.lease_keeper(renew, lease / 3):
        try:
            await fanout.run()
        except Stopped:
            log.info("fan-out stopped", notification=notification_id, batches=fanout.written)
            return f"stopped after {fanout.written} batches"
    log.info("fan-out done", notification=notification_id, batches=fanout.written)
    return f"{fanout.written} batches"


class Fanout:
    """One run of a notification's fan-out."""

    def __init__(self, notification: Notification, redis: Any, size: int, lease: float) -> None:
        self.notification = notification
        self.id = str(notification.id)
        self.redis = redis
        self.size = size
        self.lease = lease
        self.last: dict[Key, ObjectId] = {}  # the last device of each kind already in a batch
        self.next_seq = 0
        self.written = 0

    def kinds(self) -> set[Key]:
        """Every (platform, language) the audience may produce."""
        languages = ["th"]
        if self.notification.title_en:
            languages = audience_languages(self.notification.audience)
        return {
            (p, lang) for p in audience_platforms(self.notification.audience) for lang in languages
        }

    async def resume(self) -> ObjectId | None:
        """Take in the batches of earlier runs; where the device stream must restart."""
        count = targeted = 0
        pending = []
        cursor = PushBatch.get_pymongo_collection().find(
            {"notification_id": self.id},
            {"seq": 1, "platform": 1, "language": 1, "last_device_id": 1, "size": 1,
             "status": 1, "attempts": 1},
        )  # fmt: skip
        async for batch in cursor:
            key = (batch["platform"], batch["language"])
            last = ObjectId(batch["last_device_id"])
            self.last[key] = max(self.last.get(key, last), last)
            self.next_seq = max(self.next_seq, batch["seq"] + 1)
            count += 1
            targeted += batch["size"]
            if batch["status"] == BatchStatus.PENDING:
                pending.append(batch)
        if not count:
            return None
        if not await lifecycle.resume_fanout(self.notification, count, targeted, self.lease):
            raise Stopped
        for batch in pending:  # their jobs may have been lost with the dead run
            await enqueue_send(
                self.redis, str(batch["_id"]), self.id, batch["seq"], batch["attempts"]
            )
        log.info("fan-out resumed", notification=self.id, batches=count, devices=targeted)
        if self.kinds() <= set(self.last):
            return min(self.last.values())
        return None

    async def run(self) -> None:
        """Stream the audience into batches; ``sending`` at the end."""
        start = await self.resume()
        query = device_filter(self.notification.audience)
        if start is not None:
            query = {"$and": [query, {"_id": {"$gt": start}}]}
        buffers: dict[Key, list[dict[str, Any]]] = {}
        cursor = Device.get_pymongo_collection().find(
            query, PROJECTION, sort=[("_id", 1)], batch_size=CURSOR_BATCH
        )
        try:
            async for device in cursor:
                language = message_language(self.notification, device.get("language"))
                key = (device["platform"], language)
                last = self.last.get(key)
                if last is not None and device["_id"] <= last:
                    continue  # written by an earlier run
                buffer = buffers.setdefault(key, [])
                buffer.append(device)
                if len(buffer) >= self.size:
                    await self.write(key, buffer)
                    buffers[key] = []
        finally:
            await cursor.close()
        for key in sorted(buffers):
            if buffers[key]:
                await self.write(key, buffers[key])
        if not await lifecycle.fanout_complete(self.notification):
            raise Stopped

    async def write(self, key: Key, devices: list[dict[str, Any]]) -> None:
        """Write one batch, count it, enqueue its send job."""
        platform, language = key
        batch = PushBatch(
            notification_id=self.id,
            seq=self.next_seq,
            platform=platform,
            language=language,  # type: ignore[arg-type]
            device_ids=[str(device["_id"]) for device in devices],
            tokens=[device["push_token"] for device in devices],
            size=len(devices),
            last_device_id=str(devices[-1]["_id"]),
            not_before=await lifecycle.now(),
        )
        try:
            await batch.insert()
        except DuplicateKeyError:  # another run wrote this sequence number: it owns the fan-out
            raise Stopped from None
        self.next_seq += 1
        if not await lifecycle.batch_written(self.notification, batch.size, self.lease):
            raise Stopped
        self.written += 1
        await enqueue_send(self.redis, str(batch.id), self.id, batch.seq, 0)
