"""What a notification looks like on the wire: its deep links, the push message of a batch in one
language, and the APNs payload (one builder, used by the APNs transport and by the API's size
check)."""

from __future__ import annotations

import json
from datetime import datetime

from gnews.core.localisation import pick
from gnews.notifications.models import Notification
from gnews.specs import PushMessage

MAX_TTL_SECONDS = 28 * 86_400  # FCM's and our limit


def deep_link(news_item_id: str) -> str:
    """Where the app opens for a news item."""
    return f"gnews://news/{news_item_id}"


def item_url(news_item_id: str, public_base_url: str) -> str:
    """The item's page on the public site (``/news/{id}``): it opens the app where the app is
    installed (App Links / Universal Links) and the browser everywhere else."""
    return f"{public_base_url.rstrip('/')}/news/{news_item_id}"


def app_deep_link(slug: str) -> str:
    """Where the app opens for a GAC listing."""
    return f"gnews://apps/{slug}"


def message_language(notification: Notification, device_language: str) -> str:
    """The language a device is sent: its own when the notification has English text, else
    Thai (so batches are split by language only when that changes the message)."""
    if device_language == "en" and notification.title_en:
        return "en"
    return "th"


def push_message(
    notification: Notification, language: str, at: datetime, public_base_url: str | None = None
) -> PushMessage:
    """The message of a batch in ``language``; its TTL is the time left until expiry. About a
    news item, its data hold ``url``, the item's https page (:func:`item_url`), when
    ``public_base_url`` is given."""
    left = (notification.expires_at - at).total_seconds() if notification.expires_at else 0.0
    ttl = int(max(0.0, min(MAX_TTL_SECONDS, left)))
    data = dict(notification.data)
    if notification.news_item_id:
        data["news_item_id"] = notification.news_item_id
        if public_base_url:  # a sender's own "url" value is kept
            data.setdefault("url", item_url(notification.news_item_id, public_base_url))
    return PushMessage(
        notification_id=str(notification.id),
        title=pick(language, notification.title_th, notification.title_en),
        body=pick(language, notification.body_th, notification.body_en),
        data=data,
        image_url=notification.image_url,
        deep_link=notification.deep_link,
        ttl_seconds=ttl,
        priority=notification.priority,
        language="en" if language == "en" else "th",
    )


def apns_payload(message: PushMessage) -> bytes:
    """The APNs JSON payload of ``message`` (the same for every device of a batch)."""
    alert = {"title": message.title}
    if message.body:
        alert["body"] = message.body
    aps: dict[str, object] = {"alert": alert, "sound": "default"}
    payload: dict[str, object] = {**message.data, "notification_id": message.notification_id}
    if message.image_url:
        aps["mutable-content"] = 1  # the app's service extension downloads the image
        payload["image_url"] = str(message.image_url)
    if message.deep_link:
        payload["deep_link"] = message.deep_link
    payload["aps"] = aps
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
