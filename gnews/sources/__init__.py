"""News sources: agencies' RSS/Atom feeds, who manages them, their polling health, plugin sync."""
