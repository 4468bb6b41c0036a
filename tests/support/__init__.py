"""What the tests share: servers, emulators, the feed server, factories, assertion helpers, and
the fixture files (``FIXTURES``)."""

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
