"""G-News / GAC backend core."""

__version__ = "0.1.0"
