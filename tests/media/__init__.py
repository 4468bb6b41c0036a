"""Tests of images served from our own host: the cache_media job, GET /media, the pages."""
