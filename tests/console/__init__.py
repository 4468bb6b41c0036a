"""The console: sessions, CSRF and pages in a real browser and over HTTP."""
