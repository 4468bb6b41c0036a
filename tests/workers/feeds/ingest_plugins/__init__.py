"""Plugins used by the ingestion tests."""
