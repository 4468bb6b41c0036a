"""Cross-cutting infrastructure: persistence, errors, logs, clock, pagination, caches, limits."""
