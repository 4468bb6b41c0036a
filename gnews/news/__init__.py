"""G-News news: agency sources (feeds), ingested news items, editorial curation."""
