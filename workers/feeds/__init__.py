"""Feed ingestion building blocks used by the background workers.

* :mod:`workers.feeds.fetch` -- fetch one feed over HTTP(S) with httpx: conditional GET,
  size and time limits, every failure mapped to :class:`~workers.feeds.fetch.FetchError`.
* :mod:`workers.feeds.encoding` -- turn the raw bytes into correct Unicode text, including the
  TIS-620 / windows-874 feeds of older Thai government sites and wrongly declared encodings.
* :mod:`workers.feeds.sanitize` -- allow-list HTML sanitising (nh3) and HTML to plain text.
* :mod:`workers.feeds.normalize` -- parse a feed (feedparser) into
  :class:`~workers.feeds.normalize.FeedEntry` records with stable keys, trustworthy UTC dates
  (Buddhist Era years corrected) and sanitised content.
"""
