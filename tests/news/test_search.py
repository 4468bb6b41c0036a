"""``GET /api/v1/news?q=…``: Thai-aware search, ranked by matched terms then recency."""

from __future__ import annotations

import pytest

from gnews.news.search import CANDIDATES, is_word
from gnews.thai.text import index_terms, query_terms
from tests.support.api import assert_error
from tests.support.news import make_source, publish


async def item(source, title: str, minutes_ago: float, summary: str = "", **overrides):
    """A published item indexed as ingestion indexes it (title and summary)."""
    terms = index_terms(f"{title}\n{summary}")
    return await publish(
        source, title, minutes_ago, summary=summary, search_terms=terms, **overrides
    )


async def found(client, q: str, **params) -> list[str]:
    response = await client.get("/api/v1/news", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [entry["title"] for entry in response.json()["items"]]


async def test_a_thai_word_finds_the_compound_that_contains_it(client):
    source = await make_source()
    await item(source, "สำนักงานประกันสังคมแจ้งเลื่อนจ่ายเงินสมทบ", 10)
    await item(source, "ประกันภัยรถยนต์ภาคบังคับ", 5)  # "ประกัน" alone is not the query
    await item(source, "สังคมผู้สูงอายุ", 4)
    assert await found(client, "ประกันสังคม") == ["สำนักงานประกันสังคมแจ้งเลื่อนจ่ายเงินสมทบ"]
    assert await found(client, "สำนักงานประกันสังคม") == ["สำนักงานประกันสังคมแจ้งเลื่อนจ่ายเงินสมทบ"]
    assert await found(client, "เชียงราย") == []
    assert await found(client, "ประกันชีวิต") == []  # "ประกัน" is there, "ประกันชีวิต" is not


async def test_items_with_every_word_come_first_then_fewer_then_recency(client):
    source = await make_source()
    await item(source, "ประกันสังคม นครสวรรค์ (older, both)", 60)
    await item(source, "ประกันสังคมกรุงเทพ (newest, one)", 1)
    await item(source, "จังหวัดนครสวรรค์ (newer, one)", 2)
    await item(source, "นครสวรรค์ประกันสังคม (oldest, both)", 90)
    await item(source, "ไม่เกี่ยวข้อง", 0)
    assert await found(client, "ประกันสังคม นครสวรรค์") == [
        "ประกันสังคม นครสวรรค์ (older, both)",
        "นครสวรรค์ประกันสังคม (oldest, both)",
        "ประกันสังคมกรุงเทพ (newest, one)",
        "จังหวัดนครสวรรค์ (newer, one)",
    ]
    # Written without a space, the query means the same.
    assert (await found(client, "ประกันสังคมนครสวรรค์"))[:2] == [
        "ประกันสังคม นครสวรรค์ (older, both)",
        "นครสวรรค์ประกันสังคม (oldest, both)",
    ]


async def test_three_words_rank_by_how_many_match(client):
    source = await make_source()
    await item(source, "vaccine", 1)
    await item(source, "vaccine clinic", 2)
    await item(source, "vaccine clinic hours", 3)
    await item(source, "clinic hours", 4)
    assert await found(client, "Vaccine Clinic HOURS") == [
        "vaccine clinic hours",
        "vaccine clinic",
        "clinic hours",
        "vaccine",
    ]


async def test_english_is_casefolded_and_stopwords_dropped(client):
    source = await make_source()
    await item(source, "Social Security Office extends the deadline", 2, language="en")
    await item(source, "Office hours", 1, language="en")
    assert await found(client, "social security") == ["Social Security Office extends the deadline"]
    assert await found(client, "the DEADLINE") == ["Social Security Office extends the deadline"]


async def test_unknown_names_must_match_as_a_whole(client):
    """An out-of-dictionary name becomes character clusters; clusters never match alone, so
    a partial match must still hold all of them."""
    source = await make_source()
    name = "ธนพัฒน์"
    terms = query_terms(f"ผู้ว่าฯ {name} นครสวรรค์")
    assert any(not is_word(term) for term in terms)
    await item(source, f"ผู้ว่าราชการจังหวัด {name} เยี่ยมนครสวรรค์", 10)
    await item(source, f"{name} มอบถุงยังชีพ", 5)
    await item(source, "ผู้ว่าฯ นครสวรรค์ เปิดงาน", 1)  # the words, not the name
    assert await found(client, f"ผู้ว่าฯ {name} นครสวรรค์") == [
        f"ผู้ว่าราชการจังหวัด {name} เยี่ยมนครสวรรค์",
        f"{name} มอบถุงยังชีพ",
    ]


async def test_search_combines_with_filters_and_sees_only_published_items(client):
    source = await make_source()
    await item(source, "ประกันสังคม นครสวรรค์", 1, provinces=["TH-60"])
    await item(source, "ประกันสังคม ทั่วประเทศ", 2)
    await item(source, "ประกันสังคม เชียงใหม่", 3, provinces=["TH-50"])
    await item(source, "ประกันสังคม รอตรวจ", 0, status="pending")
    await item(source, "ประกันสังคม ถอน", 0, status="withdrawn")
    assert await found(client, "ประกันสังคม", province="TH-60") == [
        "ประกันสังคม นครสวรรค์",
        "ประกันสังคม ทั่วประเทศ",
    ]
    assert await found(client, "ประกันสังคม", agency="nobody") == []
    assert len(await found(client, "ประกันสังคม")) == 3


async def test_search_pages_by_rank_without_repeats(client):
    source = await make_source()
    for index in range(7):
        await item(source, f"ฝนตกหนัก น้ำท่วม {index}", index + 1)
    for index in range(5):
        await item(source, f"น้ำท่วม {index}", index + 10)
    expected = [f"ฝนตกหนัก น้ำท่วม {i}" for i in range(7)] + [f"น้ำท่วม {i}" for i in range(5)]
    seen, cursor = [], None
    while True:
        params = {"q": "ฝนตกหนัก น้ำท่วม", "limit": 5} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/news", params=params)).json()
        seen += [entry["title"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # A new best match arriving between pages ranks before the cursor: not shown now.
        await item(source, f"ฝนตกหนัก น้ำท่วม ใหม่ {len(seen)}", 0)
    assert seen == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 201}, "q"),
        ({"q": "ข่าว", "cursor": "WyJ4Il0"}, "cursor"),  # ["x"]
        ({"q": "ข่าว", "cursor": "WzEsIjIwMjYtMDEtMDEiXQ"}, "cursor"),  # [1, "2026-01-01"]
    ],
)
async def test_bad_search_parameters_name_the_field(client, params, field):
    assert_error(await client.get("/api/v1/news", params=params), 422, field=field)


async def test_blank_or_termless_queries(client):
    source = await make_source()
    await item(source, "ข่าวหนึ่ง", 1)
    assert await found(client, "   ") == ["ข่าวหนึ่ง"]  # blank: no search
    assert await found(client, "!!! ???") == []  # nothing searchable


async def test_a_chronological_cursor_is_not_a_search_cursor(client):
    source = await make_source()
    for index in range(3):
        await item(source, f"ข่าว {index}", index)
    page = (await client.get("/api/v1/news", params={"limit": 1})).json()
    response = await client.get("/api/v1/news", params={"q": "ข่าว", "cursor": page["next_cursor"]})
    assert_error(response, 422, field="cursor")
    searched = (await client.get("/api/v1/news", params={"q": "ข่าว", "limit": 1})).json()
    response = await client.get("/api/v1/news", params={"cursor": searched["next_cursor"]})
    assert_error(response, 422, field="cursor")


def test_candidate_bound_is_documented():
    assert CANDIDATES == 1000
