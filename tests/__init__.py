"""The test-suite: ``support/`` (what tests share) and one folder per package."""
