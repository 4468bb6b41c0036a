"""GovChannel, the public web for citizens without the app (docs/site.md).

* :mod:`gnews.site.controllers`: the pages (``/``, ``/provinces/{code}`` with its kiosk mode,
  ``/agencies/{code}``, ``/news/{id}``, ``/apps``, ``/apps/{slug}``), the Atom/RSS feeds out and
  the ``/.well-known`` files that let shared links open the app.
* :mod:`gnews.site.service`: what the pages need beyond the domain services (which they call:
  the news feed of :mod:`gnews.news.feed`, the catalogue of :mod:`appcenter.service`).
* :mod:`gnews.site.feeds`: Atom and RSS documents (feedgen).

Pages and feeds are cached in Redis with the API's public reads (same namespaces, so the same
invalidation) and answer conditional GETs (ETag, Last-Modified).
"""
