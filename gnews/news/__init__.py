"""G-News news: ingested news items, editorial curation, the citizens' feed and search."""
