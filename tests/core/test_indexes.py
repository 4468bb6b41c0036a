"""Index declarations (MongoDB-first, keyset sorts ending in _id), the embedded variant, fatal
index errors at start-up, and the backfill of derived fields."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import structlog
from beanie import Document
from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from gnews.app import document_models
from gnews.core.pagination import time_key
from gnews.core.persistence import init_documents, mongo_client
from gnews.core.persistence.backfill import backfill_derived_fields
from gnews.core.persistence.indexes import (
    IndexBuildError,
    array_fields,
    declared_indexes,
    embedded_indexes,
)
from gnews.devices.models import Device
from gnews.news.models import NewsItem
from gnews.notifications.models import InboxEntry

# Every keyset sort the code pages by: (document, equality prefix, sort keys); its declared
# index must be exactly the prefix, then the sort keys, then _id.
KEYSET_SORTS = [
    (NewsItem, ["status"], ["sort_key"]),  # the citizens' feed
    (NewsItem, ["status", "agency"], ["sort_key"]),  # ?agency=
    (NewsItem, ["status", "reach"], ["sort_key"]),  # ?province= (and national)
    (NewsItem, ["status", "categories"], ["sort_key"]),  # ?category=
    (NewsItem, ["status", "search_terms"], ["sort_key"]),  # ?q= (full matches)
    (NewsItem, ["status"], ["queue_key"]),  # the review queue
    (NewsItem, ["status", "agency"], ["queue_key"]),
    (NewsItem, ["status", "source_id"], ["queue_key"]),
    (NewsItem, [], ["sort_key"]),  # staff: items in any status
    (NewsItem, ["agency"], ["sort_key"]),
    (InboxEntry, ["device_id"], ["sort_key"]),  # a device's inbox
    (Device, ["active"], []),  # fan-out audiences, streamed by _id
    (Device, ["active", "platform"], []),
    (Device, ["active", "provinces"], []),
    (Device, ["active", "categories"], []),
    (Device, ["active", "agencies"], []),
]


def _keys(index: IndexModel) -> list[str]:
    return list(index.document["key"])


@pytest.mark.parametrize(("model", "prefix", "sort"), KEYSET_SORTS)
def test_every_keyset_sort_has_its_index(model, prefix, sort):
    wanted = [*prefix, *sort, "_id"]
    assert wanted in [_keys(index) for index in declared_indexes(model)]


def test_staff_lists_by_id_have_indexes_ending_in_id():
    by_model = {m.__name__: [_keys(i) for i in declared_indexes(m)] for m in document_models()}
    assert ["target_type", "target_id", "_id"] in by_model["AuditEntry"]
    assert ["actor.id", "_id"] in by_model["AuditEntry"]
    assert ["agency", "_id"] in by_model["Notification"]
    assert ["status", "_id"] in by_model["Notification"]
    assert ["status", "published_at", "_id"] in by_model["AppListing"]
    assert ["status", "submitted_at", "_id"] in by_model["AppListing"]


@pytest.mark.parametrize("model", document_models(), ids=lambda m: m.__name__)
def test_embedded_variant_has_no_id_or_array_in_compounds_and_helpers_for_equalities(model):
    arrays = array_fields(model)
    planned = [_keys(index) for index in embedded_indexes(model)]
    singles = {keys[0] for keys in planned if len(keys) == 1}
    for keys in planned:
        if len(keys) > 1:
            assert "_id" not in keys
            assert not set(keys) & arrays
            assert set(keys) <= singles  # nx-27017 serves an equality only with these
    for index in declared_indexes(model):
        for field in _keys(index):
            if field != "_id" and field.split(".")[0] not in arrays:
                assert field in singles


def test_array_fields_come_from_the_model():
    assert {"provinces", "categories", "search_terms", "reach"} <= array_fields(NewsItem)
    assert "status" not in array_fields(NewsItem)
    assert {"provinces", "categories", "agencies"} <= array_fields(Device)


class Clash(Document):
    """A document whose unique index cannot be built over the data already stored."""

    code: str

    class Settings:
        name = "clashes"
        indexes = [IndexModel([("code", ASCENDING)], unique=True)]


async def test_an_index_that_cannot_be_built_stops_start_up_with_a_clear_log(settings):
    client = mongo_client(settings.mongodb_uri or "")
    try:
        await client[settings.mongodb_db]["clashes"].insert_many([{"code": "x"}, {"code": "x"}])
        with structlog.testing.capture_logs() as logs, pytest.raises(IndexBuildError) as caught:
            await init_documents(client, settings.mongodb_db, [Clash])
        assert caught.value.collection == "clashes"
        assert caught.value.keys == [("code", 1)]
        assert "cannot build index {code: 1} on clashes" in str(caught.value)
        failed = [e for e in logs if e["event"] == "index build failed"]
        assert failed and failed[0]["collection"] == "clashes"
        assert failed[0]["index"] == {"code": 1} and failed[0]["reason"]
        # Not taken for an outage: no background retry was started.
        assert not [e for e in logs if "retrying" in e["event"]]
    finally:
        await client.drop_database(settings.mongodb_db)
        await client.close()


async def test_without_build_no_index_is_built(settings):
    client = mongo_client(settings.mongodb_uri or "")
    try:
        await client[settings.mongodb_db]["clashes"].insert_many([{"code": "x"}, {"code": "x"}])
        assert await init_documents(client, settings.mongodb_db, [Clash], build=False) is None
        names = await client[settings.mongodb_db]["clashes"].index_information()
        assert not [n for n in names if n != "_id_"]
    finally:
        await client.drop_database(settings.mongodb_db)
        await client.close()


async def test_backfill_fills_in_derived_fields_once(client, settings):
    database = mongo_client(settings.mongodb_uri or "")[settings.mongodb_db]
    published = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    item_ids = [ObjectId(), ObjectId()]
    old = [
        {"_id": item_ids[0], "source_id": "s", "source_slug": "s", "agency": "a", "key": "k1",
         "title": "t", "published_at": published, "fetched_at": published,
         "content_hash": "h", "provinces": ["TH-60"], "status": "published"},
        {"_id": item_ids[1], "source_id": "s", "source_slug": "s", "agency": "a", "key": "k2",
         "title": "t", "published_at": published, "fetched_at": published,
         "content_hash": "h", "provinces": [], "status": "published"},
    ]  # fmt: skip
    await database["news_items"].insert_many(old)
    entry_id = ObjectId()
    await database["inbox_entries"].insert_one(
        {"_id": entry_id, "device_id": "d", "notification_id": "n", "created_at": published}
    )
    assert await backfill_derived_fields(document_models()) == 3
    first = await database["news_items"].find_one({"_id": item_ids[0]})
    assert first["sort_key"] == time_key(published, item_ids[0])
    assert first["queue_key"] == time_key(published, item_ids[0])
    assert first["reach"] == ["TH-60"]
    second = await database["news_items"].find_one({"_id": item_ids[1]})
    assert second["reach"] == ["TH"]  # national
    entry = await database["inbox_entries"].find_one({"_id": entry_id})
    assert entry["sort_key"] == time_key(published, entry_id)
    assert await backfill_derived_fields(document_models()) == 0  # idempotent
    # The backfilled items are in the feed, the national one with every province.
    feed = (await client.get("/api/v1/news", params={"province": "TH-50"})).json()
    assert [item["id"] for item in feed["items"]] == [str(item_ids[1])]
    await database.client.close()


def _cli_env(settings) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")},
        "GNEWS_MONGODB_URI": settings.mongodb_uri,
        "GNEWS_REDIS_URL": settings.redis_url,
        "GNEWS_MONGODB_DB": settings.mongodb_db,
        "GNEWS_DATA_DIR": str(settings.data_dir),
        "GNEWS_BUILD_INDEXES": "false",  # the command builds them whatever this says
    }


async def test_gnews_db_indexes_builds_them_and_fails_naming_the_index(settings):
    command = [sys.executable, "-m", "gnews", "db", "indexes"]
    client = mongo_client(settings.mongodb_uri or "")
    database = client[settings.mongodb_db]
    try:
        built = subprocess.run(
            command, env=_cli_env(settings), capture_output=True, text=True, timeout=300
        )
        assert built.returncode == 0, built.stdout + built.stderr
        assert "indexes built or present" in built.stdout
        assert len(await database["news_items"].index_information()) > 1
        # Two agencies with one code: the unique index on it cannot be built.
        await database["agencies"].drop_indexes()
        await database["agencies"].insert_many(
            [{"code": "dup", "name_th": "ก", "name_en": "a"} for _ in range(2)]
        )
        failed = subprocess.run(
            command, env=_cli_env(settings), capture_output=True, text=True, timeout=300
        )
        assert failed.returncode != 0
        assert "cannot build index {code: 1} on agencies" in failed.stderr
    finally:
        await client.drop_database(settings.mongodb_db)
        await client.close()
