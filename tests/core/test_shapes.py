"""Query shapes of the persistence module: the same documents on every server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from beanie import Document
from pymongo import ASCENDING, DESCENDING, IndexModel

from gnews.config import Settings
from gnews.core.persistence import init_documents, insert_many, mongo_client
from gnews.core.persistence.shapes import find_after_id


class Row(Document):
    kind: str
    n: int

    class Settings:
        name = f"rows_{uuid.uuid4().hex[:6]}"
        indexes = [IndexModel([("kind", ASCENDING), ("_id", DESCENDING)])]


@pytest.fixture
async def rows(settings: Settings) -> AsyncIterator[list[Row]]:
    client = mongo_client(settings.mongodb_uri or "")
    await init_documents(client, settings.mongodb_db, [Row])
    await insert_many(Row, [Row(kind="ab"[n % 2], n=n) for n in range(9)])
    yield await Row.find().sort([("_id", ASCENDING)]).to_list()
    await client.drop_database(settings.mongodb_db)
    await client.close()


@pytest.mark.parametrize("descending", [False, True])
async def test_find_after_id_pages_through_every_match_once(rows, descending) -> None:
    wanted = [row.n for row in rows if row.kind == "a"]
    if descending:
        wanted.reverse()
    seen: list[int] = []
    after = None
    while True:
        page = await find_after_id(Row, {"kind": "a"}, after, descending=descending, limit=2)
        seen += [row.n for row in page]
        if len(page) < 2:
            break
        after = page[-1].id
    assert seen == wanted


async def test_find_after_id_is_strictly_after(rows) -> None:
    middle = rows[4]
    after = await find_after_id(Row, {}, middle.id, descending=False, limit=100)
    before = await find_after_id(Row, {}, middle.id, descending=True, limit=100)
    assert [row.n for row in after] == [5, 6, 7, 8]
    assert [row.n for row in before] == [3, 2, 1, 0]
