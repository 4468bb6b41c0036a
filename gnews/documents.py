"""Every beanie document of the system: the one list the API, the worker and the CLI bind.

It sits at the root of ``gnews`` beside the composition roots because it names every domain's
models (and GAC's): ``gnews/core/persistence`` may import nothing of the domain, and the
worker must not import the API's application factory to learn it.
"""

from __future__ import annotations

from beanie import Document

from appcenter.models import AppListing
from gnews.accounts.models import ApiKey, User
from gnews.agencies.models import Agency
from gnews.audit.models import AuditEntry
from gnews.devices.models import Device, PushToken
from gnews.media.models import MediaObject
from gnews.news.models import NewsItem
from gnews.notifications.models import InboxEntry, Notification, PushBatch
from gnews.sources.models import Source


def document_models() -> list[type[Document]]:
    """Every beanie document of the system (the API and the worker bind the same set)."""
    return [
        User,
        ApiKey,
        Agency,
        AuditEntry,
        Source,
        NewsItem,
        AppListing,
        Device,
        PushToken,
        Notification,
        InboxEntry,
        PushBatch,
        MediaObject,
    ]
