"""Tests for workers.feeds (fetching, encoding, sanitising, normalising feeds)."""
