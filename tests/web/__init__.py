"""The web foundation: offline API docs and static files, in a real browser."""
