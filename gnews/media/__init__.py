"""Images served from our own host: agencies' images fetched once, verified and stored by hash.

* :mod:`gnews.media.models`: the stored image (:class:`~gnews.media.models.MediaObject`, keyed
  by the SHA-256 of its bytes) and the ``{url, media_id}`` pairs an item or listing keeps.
* :mod:`gnews.media.images`: what may be stored (Pillow decodes it: JPEG, PNG, GIF, WebP only).
* :mod:`gnews.media.service`: storing, looking up, and the one rule that turns an agency's
  image URL into ours (:func:`~gnews.media.service.local_url`) for pages and the API.
* :mod:`gnews.media.controllers`: ``GET /media/{sha256}``.

The API never fetches an image: it enqueues the ``cache_media`` job (``gnews.jobs``), which the
feeds worker runs (``workers/jobs/media.py``).
"""
