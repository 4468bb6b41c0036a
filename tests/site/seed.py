"""What the site tests show: Thai national and Nakhon Sawan news, another province's, a pending
item, two agencies and published (and unpublished) apps."""

from __future__ import annotations

from dataclasses import dataclass

from appcenter.models import AppListing, ListingStatus
from gnews.agencies.models import Agency
from gnews.news.models import ItemStatus, NewsItem
from tests.support.gac import make_published
from tests.support.news import make_source, publish


@dataclass
class Seeded:
    """The seeded items, by role."""

    national: NewsItem
    nakhon_sawan: NewsItem
    chiang_mai: NewsItem
    pending: NewsItem
    older: list[NewsItem]
    app: AppListing
    draft_app: AppListing


async def seed_site(older: int = 0) -> Seeded:
    """Seed the site's test data; ``older``: that many more Nakhon Sawan items, older ones."""
    await Agency(
        code="dopa", name_th="กรมการปกครอง", name_en="Department of Provincial Administration"
    ).insert()
    await Agency(
        code="ega", name_th="สำนักงานพัฒนารัฐบาลดิจิทัล", name_en="Digital Government Development Agency"
    ).insert()
    dopa = await make_source("dopa-news", "dopa")
    ega = await make_source("ega-news", "ega")
    national = await publish(
        ega,
        "รัฐบาลดิจิทัลเปิดบริการใหม่ทั่วประเทศ",
        minutes_ago=30,
        summary="ประชาชนใช้บริการภาครัฐผ่านแอปได้ทันที",
        content_html="<p>บริการใหม่ <script>alert(1)</script><b>ใช้ได้แล้ว</b></p>",
        image_url="https://www.ega.or.th/news/service.jpg",
        categories=["digital-government"],
        link="https://www.ega.or.th/news/1",
    )
    nakhon_sawan = await publish(
        dopa,
        "นครสวรรค์เตรียมรับมือน้ำหลาก",
        minutes_ago=10,
        summary="ผู้ว่าราชการจังหวัดนครสวรรค์สั่งการเฝ้าระวังระดับน้ำเจ้าพระยา",
        provinces=["TH-60"],
        categories=["disaster"],
    )
    chiang_mai = await publish(
        dopa, "เชียงใหม่จัดงานดอกไม้", minutes_ago=20, provinces=["TH-50"], categories=["events"]
    )
    pending = await publish(
        dopa, "ข่าวที่ยังไม่อนุมัติ", minutes_ago=5, provinces=["TH-60"], status=ItemStatus.PENDING
    )
    more = [
        await publish(dopa, f"ข่าวนครสวรรค์ลำดับ {n}", minutes_ago=100 + n, provinces=["TH-60"])
        for n in range(older)
    ]
    app = await make_published(
        "tang-rat",
        agency="dopa",
        name_th="ทางรัฐ",
        name_en="Tang Rat",
        description_th="แอปบริการภาครัฐครบในที่เดียว ยื่นภาษีและตรวจสอบสิทธิ",
        google_play_url="https://play.google.com/store/apps/details?id=th.go.dga.tangrat",
        app_store_url="https://apps.apple.com/th/app/tang-rat/id1532375011",
        tags=["ภาษี"],
    )
    draft = await make_published(
        "secret-draft", agency="dopa", name_th="แอปร่าง", status=ListingStatus.DRAFT
    )
    return Seeded(national, nakhon_sawan, chiang_mai, pending, more, app, draft)
