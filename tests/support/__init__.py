"""What the tests share: servers, emulators, factories, assertion helpers and fixture files.

``FIXTURES`` is the folder of fixture files; the feed server is ``gnews.dev.emulators.feeds``.
"""

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
