"""The persistence update seam: guarded partial updates and validated inserts, on any server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from beanie import Document
from pydantic import BaseModel, Field

from gnews.config import Settings
from gnews.core.persistence import (
    Each,
    InvalidDocument,
    find_one_and_update,
    init_documents,
    insert,
    insert_many,
    mongo_client,
    update_many,
    update_one,
)


class Stats(BaseModel):
    sent: int = 0
    failed: int = 0


class Entry(BaseModel):
    at: datetime
    note: str


class Sample(Document):
    """A document shaped like the application's: dates, counters, a nested model, a list."""

    name: str
    active: bool = True
    status: str = "draft"
    seen_at: datetime | None = None
    visits: int = Field(default=0, ge=0)
    stats: Stats = Field(default_factory=Stats)
    history: list[Entry] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    key: str | None = None

    class Settings:
        name = f"samples_{uuid.uuid4().hex[:6]}"


AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def samples(settings: Settings) -> AsyncIterator[type[Sample]]:
    client = mongo_client(settings.mongodb_uri or "")
    await init_documents(client, settings.mongodb_db, [Sample])
    yield Sample
    await client.drop_database(settings.mongodb_db)
    await client.close()


async def test_set_datetime_stays_a_date_that_range_queries_find(samples) -> None:
    sample = await insert(Sample(name="a"))
    assert await update_one(Sample, {"_id": sample.id}, set={"seen_at": AT})
    stored = await Sample.get(sample.id)
    assert stored is not None and stored.seen_at == AT
    found = await Sample.find({"seen_at": {"$gte": AT - timedelta(days=1)}}).to_list()
    assert [s.id for s in found] == [sample.id]


async def test_filter_guards_the_update(samples) -> None:
    sample = await insert(Sample(name="a", status="published"))
    assert not await update_one(Sample, {"_id": sample.id, "status": "draft"}, set={"seen_at": AT})
    assert not await update_one(Sample, {"_id": sample.id, "status": "draft"}, set={"name": "b"})
    stored = await Sample.get(sample.id)
    assert stored is not None and stored.seen_at is None and stored.name == "a"


async def test_inc_unset_push_and_nested_paths(samples) -> None:
    sample = await insert(Sample(name="a", seen_at=AT, tags=["x"]))
    changed = await find_one_and_update(
        Sample,
        {"_id": sample.id},
        inc={"visits": 2, "stats.sent": 3},
        unset=["seen_at"],
        push={"history": Entry(at=AT, note="one"), "tags": Each(["y", "z"], keep_last=2)},
    )
    assert changed is not None
    assert (changed.visits, changed.stats.sent, changed.seen_at) == (2, 3, None)
    assert changed.history == [Entry(at=AT, note="one")]
    assert changed.tags == ["y", "z"]
    stored = await Sample.get(sample.id)
    assert stored == changed


async def test_concurrent_updates_of_different_fields_all_survive(samples) -> None:
    sample = await insert(Sample(name="a"))
    moments = [AT + timedelta(minutes=i) for i in range(10)]
    await asyncio.gather(
        *(update_one(Sample, {"_id": sample.id}, set={"seen_at": m}) for m in moments),
        *(update_one(Sample, {"_id": sample.id}, inc={"visits": 1}) for _ in range(10)),
        update_one(Sample, {"_id": sample.id}, set={"active": False}),
    )
    stored = await Sample.get(sample.id)
    assert stored is not None
    assert stored.visits == 10 and stored.active is False and stored.seen_at in moments


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"active": None}, "active"),
        ({"name": None}, "name"),
        ({"active": "maybe"}, "active"),
        ({"visits": -1}, "visits"),
        ({"seen_at": "yesterday"}, "seen_at"),
        ({"stats.sent": "many"}, "stats.sent"),
        ({"nonsense": 1}, "nonsense"),
        ({"_id": "x"}, "_id"),
    ],
)
async def test_a_value_the_model_cannot_load_is_refused_and_nothing_stored(
    samples, changes, field
) -> None:
    sample = await insert(Sample(name="a"))
    with pytest.raises(InvalidDocument) as refused:
        await update_one(Sample, {"_id": sample.id}, set=changes)
    assert field in refused.value.errors
    stored = await Sample.get(sample.id)
    assert stored == sample


async def test_invalid_inc_unset_push_are_refused(samples) -> None:
    sample = await insert(Sample(name="a"))
    with pytest.raises(InvalidDocument) as refused:
        await update_one(
            Sample,
            {"_id": sample.id},
            inc={"name": 1, "visits": True, "stats.failed": 1.5},
            unset=["status", "key"],
            push={"history": {"note": "no date"}},
        )
    assert set(refused.value.errors) == {"name", "visits", "stats.failed", "history"}
    assert await Sample.get(sample.id) == sample


async def test_insert_validates_the_whole_document(samples) -> None:
    bad = Sample.model_construct(name=None, active=True)
    with pytest.raises(InvalidDocument) as refused:
        await insert(bad)
    assert "name" in refused.value.errors
    assert await Sample.count() == 0


async def test_update_many_changes_every_match(samples) -> None:
    for name in "abc":
        await insert(Sample(name=name, status="draft" if name != "c" else "published"))
    assert await update_many(Sample, {"status": "draft"}, set={"seen_at": AT}) == 2
    dated = await Sample.find({"seen_at": {"$gte": AT}}).to_list()
    assert sorted(s.name for s in dated) == ["a", "b"]


async def test_insert_many_skips_duplicate_keys_only(samples) -> None:
    await Sample.get_pymongo_collection().create_index("key", unique=True, name="sample_key")
    await insert(Sample(name="old", key="k2"))
    outcome = await insert_many(
        Sample, [Sample(name=n, key=k) for n, k in [("a", "k1"), ("b", "k2"), ("c", "k3")]]
    )
    assert (outcome.inserted, outcome.duplicates) == (2, [1])
    assert sorted(s.name for s in await Sample.find_all().to_list()) == ["a", "c", "old"]


async def test_database_now_is_the_servers_time(samples) -> None:
    from gnews.core.clock import utcnow
    from gnews.core.persistence import database_now

    before = utcnow()
    at = await database_now(Sample)
    # The test servers run on this machine: the database clock is this one, within a second.
    assert abs((at - before).total_seconds()) < 1
    assert at.tzinfo is not None


async def test_a_guard_on_a_time_is_exact_to_the_millisecond(samples):
    # A version guard: an update made from a copy read at one time must not match a document
    # changed since, even within the same second (the embedded server compares to the second).
    read_at = AT.replace(microsecond=120_000)
    sample = await insert(samples(name="a", seen_at=read_at))
    changed_at = read_at + timedelta(milliseconds=300)
    assert await update_one(
        samples, {"_id": sample.id, "seen_at": read_at}, set={"seen_at": changed_at}
    )
    stale = await find_one_and_update(
        samples, {"_id": sample.id, "seen_at": read_at}, set={"name": "b"}
    )
    assert stale is None
    fresh = await find_one_and_update(
        samples, {"_id": sample.id, "seen_at": changed_at}, set={"name": "c"}
    )
    assert fresh is not None and fresh.name == "c"
