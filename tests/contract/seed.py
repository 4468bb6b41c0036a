"""A small, realistic data set for contract tests against the live API: an agency with a
feed, published Thai news, staff and agency accounts, and a notification in a device's inbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from gnews.accounts.models import Role
from gnews.accounts.service import create_user
from gnews.agencies.models import Agency
from gnews.news.models import ItemStatus, NewsItem
from gnews.notifications.models import InboxEntry, Notification, NotificationStatus
from gnews.sources.models import Source
from gnews.thai.text import index_terms
from tests.support.api import PASSWORD
from tests.support.push import fcm_token

AGENCY = "tmd"
NEWS_TITLES = (
    "กรมอุตุนิยมวิทยาเตือนฝนตกหนักภาคเหนือ",
    "ค่าฝุ่น PM2.5 เชียงใหม่เกินมาตรฐาน",
    "เปิดลงทะเบียนรับเงินช่วยเหลือน้ำท่วม",
)


@dataclass
class Seeded:
    """What :func:`seed` created; ids and credentials for the tests."""

    news_ids: list[str] = field(default_factory=list)
    notification_id: str = ""
    source_id: str = ""
    emails: dict[str, str] = field(default_factory=dict)


async def seed_database() -> Seeded:
    """Agency, source, news, accounts and a sent notification (run on the API's loop)."""
    seeded = Seeded()
    await Agency(
        code=AGENCY, name_th="กรมอุตุนิยมวิทยา", name_en="Thai Meteorological Department"
    ).insert()
    source = await Source(
        slug="tmd-news", agency=AGENCY, name="ข่าวกรมอุตุฯ", feed_url="https://tmd.example/feed"
    ).insert()
    seeded.source_id = str(source.id)
    now = datetime.now(UTC).replace(microsecond=0)
    for minutes, title in enumerate(NEWS_TITLES):
        item = await NewsItem(
            source_id=str(source.id),
            source_slug=source.slug,
            agency=AGENCY,
            key=uuid.uuid4().hex,
            title=title,
            published_at=now - timedelta(minutes=10 + minutes),
            content_hash=uuid.uuid4().hex,
            status=ItemStatus.PUBLISHED,
            provinces=["TH-50"],
            search_terms=index_terms(title),
        ).insert()
        seeded.news_ids.append(str(item.id))
    for role, agency in ((Role.ADMIN, None), (Role.EDITOR, None), (Role.AGENCY, AGENCY)):
        email = f"{role.value}@example.org"
        await create_user(email, PASSWORD, role, agency=agency)
        seeded.emails[role.value] = email
    notification = await Notification(
        title_th="แจ้งเตือนฝนตกหนัก",
        body_th="ฝนตกหนักถึงหนักมากในภาคเหนือ",
        status=NotificationStatus.DONE,
        settled=True,
    ).insert()
    seeded.notification_id = str(notification.id)
    return seeded


async def deliver(notification_id: str, device_id: str) -> None:
    """The inbox entry the fan-out writes for a device (run on the API's loop)."""
    await InboxEntry(device_id=device_id, notification_id=notification_id).insert()


def bearer(base_url: str, email: str) -> dict[str, str]:
    """Headers with a bearer token for ``email``, signed in through the API."""
    response = httpx.post(
        f"{base_url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def register_device(base_url: str, n: int) -> dict:
    """Register an Android device through the API; its id and secret."""
    response = httpx.post(
        f"{base_url}/api/v1/devices",
        json={"platform": "android", "push_token": fcm_token(n), "provinces": ["TH-50"]},
    )
    response.raise_for_status()
    return response.json()
